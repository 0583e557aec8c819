"""The rehearsal: the repository's real GitHub workflows run on this machine (``make rehearse``).

act runs the workflow files unchanged, in host mode, against the local AWS of
:mod:`local.pipeline_aws`. What act does not do, this package models: GitHub's API as the workflows
call it (``gh api``: runs, artifacts, approvals), the third-party actions (stand-ins that enforce
what the real ones require and do their effect locally), and the GitHub environments of
``infra/config/github-settings.json`` (deployment rules, required reviewers, OIDC subjects).
"""
