"""One module (or package) per CLI verb: it reads run directories, calls the analyses, writes outputs.
`options` holds their torch-free option dataclasses and choices, which the CLI reads."""
