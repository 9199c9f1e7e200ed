"""`latentspace compare`: every family that can sample, trained under one wall-clock budget on the same data,
scored the same way at 1/4, 1/2 and all of the budget, as one report (built on the study's engine)."""
