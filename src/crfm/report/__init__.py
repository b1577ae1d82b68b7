"""crfm.report: the presentation layer (above crfm.studies): table specs, APA formatting, the one
table renderer (HTML/LaTeX), figures (results in, Figure out), the numbers the running text quotes
(numbers.json/numbers.tex), the appendix documents and PDF, provenance and the bibliography."""
