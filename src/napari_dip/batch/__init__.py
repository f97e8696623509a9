"""Files restored in batches: reading and writing files, serial runs and Dask clusters."""
