"""Every picture, drawn with matplotlib (Agg) from arrays and saved as PNG with titles and axis labels."""
