"""The AWS side of GitHub Actions OIDC: the identity provider and one role pair per environment.

A separate CDK app (``python -m infra.github_oidc.app``), deployed once per account by a person
with administrator rights; the pipelines then need no stored keys. See ``docs/pipelines.md``.
"""
