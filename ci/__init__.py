"""Post-deployment verification: the deployment checklist as code (``python -m ci.verify``)."""
