"""The reporting service: stocktaking reports assembled from measurement's projections over HTTP."""
