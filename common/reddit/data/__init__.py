"""The packaged offline corpus (corpus.json.gz); a package so that installs ship it."""
