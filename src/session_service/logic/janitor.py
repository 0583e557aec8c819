"""The janitor: the second path to the truth when a best-effort event never came.

API Gateway delivers one `$disconnect` per connection at most, and not always (an abandoned
handshake, a failed invocation); the janitor runs on a schedule and puts right what that leaves:

1. **Silent speakers.** A speaker unheard for the staleness limit has lost its socket: its
   session is ended exactly as its own `$disconnect` would end it, with ``sessionEnded``
   (``speakerTimeout``) to every listener, their items removed, the counts corrected, and the
   socket closed if it is still open.
2. **Unfinished ends.** A session ended more than the longest function timeout ago that is still
   marked for the sweep had its fan-out die: its remaining listeners are told and removed.
3. **Silent listeners.** A listener unheard past API Gateway's idle limit (10 minutes) has no
   socket any more: its item is removed and its session's count corrected.
4. **The active-sessions figure.** Counted from the speakers' items and corrected when two runs
   in a row find the same drift. A speaker item is not proof of an active session: the old
   item of a refresh whose `$disconnect` was lost stays heard for up to the staleness limit,
   possibly after the session ended. So a count that disagrees with the figure is confirmed
   by reading the sessions it counts, and only the active ones are counted.

Every removal is conditional on the connection not having been heard since the run's threshold
(and an end on the session still being that speaker's), so a speaker who comes back in time, a
refresh, a racing `$disconnect` and a second janitor run each leave nothing half done.

Request budget (DynamoDB) of a run with nothing to do: 10 (one Query per liveness shard of each
role, one on the sweep index, one GetItem of the counter). Each ended session adds what a
speaker's `$disconnect` costs; each silent listener one transaction; a run whose count of
speaker items disagrees with the figure one GetItem per session counted. A run stops starting new
work when its time budget is spent; what is left is still silent at the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from session_service import constants as c
from session_service import specs
from session_service.config import JanitorSettings
from session_service.logic.endings import tell_listeners
from session_service.logic.ports import LivenessIndex, Messenger, Reaping
from session_service.models import EndOutcome, Heard, Role
from session_service.observability import Telemetry, logger
from session_service.protocol import EndReason

# An end is left to its `$disconnect` (or janitor run) until the longest of them has timed out.
SWEEP_AFTER_MS = 1000 * max(specs.DISCONNECT.timeout_s, specs.JANITOR.timeout_s)
LISTENER_IDLE_MS = 1000 * c.API_GATEWAY_IDLE_TIMEOUT_SECONDS


@dataclass
class RunReport:
    """What one run did (also its metrics and its log line)."""

    sessions_ended: int = 0
    connections_removed: int = 0
    ends_finished: int = 0
    counts_corrected: int = 0
    active_sessions: int | None = None  # the figure counted, when the speakers were read whole
    complete: bool = True  # False when the time budget ran out before the end of the run
    failures: list[str] = field(default_factory=list)


@dataclass
class JanitorService:
    settings: JanitorSettings
    sessions: Reaping
    liveness: LivenessIndex
    notifier: Messenger
    telemetry: Telemetry
    clock: Callable[[], float]

    def run(self, has_time: Callable[[], bool] = lambda: True) -> RunReport:
        """One run; ``has_time`` says whether the invocation may start more work."""
        report = RunReport()
        now = self.clock()
        now_ms = int(now * 1000)
        speakers_live = self._silent_speakers(now, now_ms, has_time, report)
        self._unfinished_ends(now, now_ms, has_time, report)
        self._silent_listeners(now_ms, has_time, report)
        if speakers_live is not None and has_time():
            report.active_sessions = self._reconcile_figure(speakers_live, report)
        self.telemetry.count(c.METRIC_SESSIONS_REAPED, report.sessions_ended)
        self.telemetry.count(c.METRIC_CONNECTIONS_REAPED, report.connections_removed)
        self.telemetry.count(c.METRIC_COUNTS_CORRECTED, report.counts_corrected)
        logger.info(
            "janitor run",
            extra={
                "sessionsEnded": report.sessions_ended,
                "connectionsRemoved": report.connections_removed,
                "endsFinished": report.ends_finished,
                "countsCorrected": report.counts_corrected,
                "activeSessions": report.active_sessions,
                "complete": report.complete,
            },
        )
        return report

    # --- 1. speakers ---------------------------------------------------------------------
    def _silent_speakers(
        self, now: float, now_ms: int, has_time: Callable[[], bool], report: RunReport
    ) -> set[str] | None:
        """End the sessions of silent speakers; the sessions whose speaker is live, or None
        when the time ran out before every speaker was read."""
        threshold = now_ms - self.settings.speaker_staleness_seconds * 1000
        live: set[str] = set()
        for shard in range(c.LIVENESS_SHARDS):
            for page in self.liveness.heard(Role.SPEAKER, shard):
                for speaker in page:
                    if speaker.heard_at_ms >= threshold:
                        live.add(speaker.session_id)
                    elif has_time():
                        self._end_silent(speaker, now, now_ms, threshold, report)
                    else:
                        report.complete = False
                if not has_time():
                    report.complete = False
                    return None
        return live

    def _end_silent(
        self, speaker: Heard, now: float, now_ms: int, threshold: int, report: RunReport
    ) -> None:
        outcome = self.sessions.end_session(
            speaker, now_ms, EndReason.SPEAKER_TIMEOUT, heard_before_ms=threshold
        )
        if outcome is EndOutcome.ALREADY_GONE:
            return  # heard in time, or its `$disconnect` (or another run) came first
        report.connections_removed += 1
        if outcome is EndOutcome.ENDED:
            report.sessions_ended += 1
            self._tell(speaker.session_id, EndReason.SPEAKER_TIMEOUT, now, report)
            self.sessions.finish_end(speaker.session_id)
        # its socket, if any is left, would only be refused: close it (410 is fine)
        self._close(speaker.connection_id, report)
        logger.info(
            "silent speaker removed",
            extra={"sessionId": speaker.session_id, "outcome": outcome.value},
        )

    # --- 2. unfinished ends --------------------------------------------------------------
    def _unfinished_ends(
        self, now: float, now_ms: int, has_time: Callable[[], bool], report: RunReport
    ) -> None:
        for page in self.liveness.unswept(now_ms - SWEEP_AFTER_MS):
            for ended in page:
                if not has_time():
                    report.complete = False
                    return
                removed = self._tell(ended.session_id, ended.reason, now, report)
                if self.sessions.finish_end(ended.session_id) and removed:
                    report.ends_finished += 1
                    logger.info(
                        "unfinished end finished",
                        extra={"sessionId": ended.session_id, "listeners": removed},
                    )

    # --- 3. listeners --------------------------------------------------------------------
    def _silent_listeners(
        self, now_ms: int, has_time: Callable[[], bool], report: RunReport
    ) -> None:
        threshold = now_ms - LISTENER_IDLE_MS
        for shard in range(c.LIVENESS_SHARDS):
            for page in self.liveness.heard(Role.LISTENER, shard, before_ms=threshold):
                for listener in page:
                    if not has_time():
                        report.complete = False
                        return
                    if self.sessions.remove_listener_item(
                        listener.connection_id, listener.session_id, heard_before_ms=threshold
                    ):
                        report.connections_removed += 1
                        report.counts_corrected += 1  # its session's listenerCount
                        self._close(listener.connection_id, report)

    # --- 4. the active-sessions figure ---------------------------------------------------
    def _reconcile_figure(self, speakers_live: set[str], report: RunReport) -> int:
        """Correct the figure if it has drifted; the number of active sessions counted."""
        figure = self.liveness.active_sessions_figure()
        true_count = len(speakers_live)
        if figure.count != true_count:
            # a heard speaker item may be a refresh's old one, of a session ended since: count
            # only the sessions still active (expired or not: the figure counts a session until
            # its end)
            true_count = sum(1 for sid in speakers_live if self._is_active(sid))
        drift = figure.count - true_count
        if drift == 0:
            if figure.observed_drift is not None:
                self.liveness.forget_drift()
            return true_count
        if figure.observed_drift != drift:
            # once may be a session created between this run's reads: wait for the next run
            self.liveness.observe_drift(drift)
            return true_count
        if self.liveness.correct_count(figure.count, true_count):
            report.counts_corrected += 1
            logger.warning(
                "active-sessions figure corrected",
                extra={"from": figure.count, "to": true_count},
            )
        return true_count

    def _is_active(self, session_id: str) -> bool:
        session = self.sessions.get_session(session_id, 0)
        return session is not None and session.is_active

    # --- helpers -------------------------------------------------------------------------
    def _tell(self, session_id: str, reason: EndReason, now: float, report: RunReport) -> int:
        told = tell_listeners(self.sessions, self.notifier, session_id, reason, now)
        report.connections_removed += told.listeners
        return told.listeners

    def _close(self, connection_id: str, report: RunReport) -> None:
        try:
            self.notifier.close(connection_id)
        except Exception as exc:  # one socket that cannot be closed stops nothing else
            report.failures.append(type(exc).__name__)
            logger.warning("closing a connection failed", extra={"error": type(exc).__name__})
