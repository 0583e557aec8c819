"""The local environment: the real system on one machine, started by ``python -m local``.

moto's server emulates the AWS APIs, the synthesized ``SessionManagement-local`` stack is
deployed into it (:mod:`local.deploy`), and a local gateway (:mod:`local.gateway`) serves the
WebSocket API the way API Gateway does, running the Lambda handlers in worker processes
(:mod:`local.runtime`). :class:`local.environment.LocalEnvironment` ties it together.
"""
