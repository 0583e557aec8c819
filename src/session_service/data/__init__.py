"""Data access: every DynamoDB expression of the service lives in this package."""
