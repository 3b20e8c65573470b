"""Python API for notebooks: minsheng.extract(path) and DataFrame views."""
