"""A classroom under load (issue 17): thirty sessions through Data -> map -> Train on one server, the queue,
a restart mid-way, page latency; and the per-session queue limit."""
from __future__ import annotations

import re
import statistics
import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tlcore import service
from tlcore.config import TrainConfig
from tlcore.errors import RunError
from tlcore.runs import RunStore

#: How often a session reruns its Train page while its run is live. The browser reruns the live fragment
#: every second (ui.runs.LIVE_POLL_S); AppTest can only rerun the whole page, about twice the work.
WATCH_S = 2.0

ROOT = Path(__file__).resolve().parents[1]

#: Sessions in the load test, runs training at once, and the test's time limits (seconds).
SESSIONS = 30
MAX_CONCURRENT = 3
START_TIMEOUT_S = 120
FINISH_TIMEOUT_S = 240


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    """One server's settings: isolated runs and cache, tiny lab data, fresh Streamlit caches."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(runs))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TLCORE_DATA_ROOTS", str(tmp_path / "roots"))
    monkeypatch.setenv("TLCORE_MAX_CONCURRENT", str(MAX_CONCURRENT))
    monkeypatch.setattr(service.defaults, "LAB_DEFAULT_PER_CLASS", 10)
    monkeypatch.setattr(service.defaults, "LAB_VAL_PER_CLASS", 10)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield runs
    store = RunStore(runs)
    for info in store.list():  # leave no run process behind
        if info.active:
            store.stop(info.run_id, wait=True, grace_s=3)
    st.cache_resource.clear()
    st.cache_data.clear()


#: AppTest drives a page through process-wide state (a mock Runtime), so one page runs at a time. So does a real
#: server's Python, for pages that keep the CPU busy (the GIL): a session's page latency below includes its
#: wait for the others' pages, as a student's browser would wait for the server.
_SERVER = threading.Lock()


class Session:
    """One student's browser session (an AppTest): its requests, each timed from asking to the page rendered."""

    def __init__(self, latencies: list, query: dict | None = None):
        self.at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        self.at.session_state["_keep_epochs"] = 1  # the Train page's epochs, kept as if set earlier
        for k, v in (query or {}).items():
            self.at.query_params[k] = v
        self.latencies = latencies
        self.work: list[float] = []
        self.run_id: str | None = None
        self.place_seen: int | None = None
        self.limit_said = False

    def run(self, action=None) -> AppTest:
        t0 = time.perf_counter()
        with _SERVER:
            t1 = time.perf_counter()
            (action(self.at) if action else self.at).run()
            self.work.append(time.perf_counter() - t1)  # the page's own time, without the wait
        self.latencies.append(time.perf_counter() - t0)  # list.append is atomic
        assert not self.at.exception, [e.value for e in self.at.exception]
        return self.at

    def text(self) -> str:
        parts = [str(e.value) for kind in ("title", "markdown", "caption", "info", "success", "warning", "error")
                 for e in getattr(self.at, kind)]
        return "\n".join(parts)

    def through_data_map_train(self) -> None:
        self.run()
        self.run(lambda at: at.button(key="home_start").click())
        self.run(lambda at: at.button(key="data_next").click())
        self.run(lambda at: at.button(key="map_train").click())
        self.run(lambda at: at.button(key="start_run").click())
        self.run_id = self.at.query_params["run"]
        shown = self.text()
        assert self.run_id in shown, "the session sees its own run"
        m = re.search(r"place (\d+) in the queue", shown)
        self.place_seen = int(m[1]) if m else None
        if self.place_seen and self.place_seen > MAX_CONCURRENT:
            # A second Start while the first run waits: the per-session limit says so, and starts nothing.
            self.run(lambda at: at.button(key="start_run").click())
            self.limit_said = "already have a run waiting" in self.text()

    def reconnect(self, heatmaps: bool = False) -> None:
        """After the restart: a new session opens the Train page with its run in the URL (a reload).

        Without ``heatmaps`` its results will show the mistakes without Grad-CAM (the gallery's switch off).
        """
        if not heatmaps:
            self.at.session_state[f"gallery_heatmaps_{self.at.query_params['run']}"] = False
        self.run(lambda at: at.switch_page("views/3_Train.py"))
        assert self.at.query_params["run"] in self.text(), "a reconnected session finds its run"

    def watch_until_done(self, store: RunStore, deadline: float) -> None:
        """The live view: the whole page again every WATCH_S seconds while the run is queued or training."""
        run_id = self.at.query_params["run"]
        while time.time() < deadline and store.get(run_id).active:
            time.sleep(WATCH_S)
            self.run()
        self.run()


def _in_threads(items, fn) -> list[str]:
    """``fn(item)`` for every item at once, each in its own thread (they start together); the errors."""
    errors: list[str] = []
    gate = threading.Barrier(len(items))

    def work(item):
        try:
            gate.wait(60)
            fn(item)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for th in threads:
        th.start()
    for th in threads:
        th.join(START_TIMEOUT_S + FINISH_TIMEOUT_S)
    return errors


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else 0.0)


@pytest.mark.slow
def test_thirty_sessions_through_the_queue_survive_a_restart(classroom):
    t_start = time.time()
    latencies: list[float] = []  # starting: Data -> map -> Train -> Start, all sessions at once
    live: list[float] = []  # after the restart: reconnecting and watching the runs until they end
    sessions = [Session(latencies) for _ in range(SESSIONS)]
    most_running = [0]
    done = threading.Event()

    def watch() -> None:  # the queue, seen from outside: never more runs at once than allowed
        store = RunStore(classroom)
        while not done.is_set():
            most_running[0] = max(most_running[0], sum(r.status == "running" for r in store.list()))
            time.sleep(0.25)

    threading.Thread(target=watch, daemon=True).start()
    errors = _in_threads(sessions, Session.through_data_map_train)
    assert errors == [], errors[:3]
    started_s = time.time() - t_start
    ids = [s.run_id for s in sessions]
    assert len(set(ids)) == SESSIONS, "every session started its own run"
    by_session: dict[str, list] = {}
    for r in RunStore(classroom).list():
        by_session.setdefault(r.session, []).append(r)
    assert len(by_session) == SESSIONS
    for runs in by_session.values():  # a second run only once the first had left the queue
        first, *more = sorted(runs, key=lambda r: r.created)
        assert len(more) <= 1 and all(first.started and first.started <= r.created for r in more), runs
    queued_then = [s for s in sessions if s.place_seen]
    assert len(queued_then) >= SESSIONS // 2 and max(s.place_seen for s in queued_then) >= SESSIONS // 3, \
        "waiting sessions see their place in the queue"
    for s in sessions:  # a second Start (when the first run waited): refused, and said so, exactly when it started nothing
        if s.place_seen and s.place_seen > MAX_CONCURRENT:
            assert s.limit_said == (len(by_session[s.at.session_state["session_key"]]) == 1)
    assert sum(s.limit_said for s in sessions) >= SESSIONS // 2, "most sessions still waited at their second Start"

    # The server restarts mid-way: its memory (sessions, cached stores) is gone; runs and their folder are not.
    with _SERVER:
        st.cache_resource.clear()
        st.cache_data.clear()
    mid = RunStore(classroom).list()
    assert set(ids) <= {r.run_id for r in mid} and any(r.active for r in mid), "a restart in the middle of it all"
    again = [Session(live, query={"run": s.at.query_params["run"]}) for s in sessions]  # its latest run
    store = RunStore(classroom)
    deadline = time.time() + FINISH_TIMEOUT_S
    errors = _in_threads(again, lambda s: (s.reconnect(heatmaps=s is again[0]), s.watch_until_done(store, deadline)))
    done.set()
    assert errors == [], errors[:3]
    infos = {r.run_id: r for r in store.list()}
    assert all(r.status == "completed" for r in infos.values()), {i: (r.status, r.message) for i, r in infos.items()
                                                                  if r.status != "completed"}
    assert all(s.at.success and s.at.query_params["run"] in s.text() for s in again), \
        "each session shows its own finished run"
    assert 1 <= most_running[0] <= MAX_CONCURRENT, most_running[0]

    total = time.time() - t_start
    every = latencies + live
    print(f"\nclassroom load: {SESSIONS} sessions, {len(every)} page requests; page latency p95 {_p95(every):.2f} s "
          f"(median {statistics.median(every):.2f} s, max {max(every):.2f} s); all starting at once p95 "
          f"{_p95(latencies):.2f} s, watching live runs p95 {_p95(live):.2f} s; {len(infos)} runs started within "
          f"{started_s:.0f} s, all completed after {total:.0f} s ({MAX_CONCURRENT} at a time, at most "
          f"{most_running[0]} seen running); the server's own time per page: median "
          f"{statistics.median(w for s in sessions + again for w in s.work):.2f} s, a results page with Grad-CAM "
          f"heatmaps {max(again[0].work):.1f} s")


# ---------------------------------------------------------------------------
# The per-session limit, without processes


@pytest.fixture
def quiet_store(tmp_path, monkeypatch):
    """A run store whose runs are created but never launched: they stay queued."""
    store = RunStore(tmp_path / "runs")
    monkeypatch.setattr(store, "start", lambda config, label="", group="", **meta: store.create(config, label, group, **meta))
    return store


def _config(tmp_path) -> TrainConfig:
    return TrainConfig(data=str(tmp_path), model="labnet", plan="head")


def test_one_queued_request_per_session(quiet_store, tmp_path, monkeypatch):
    monkeypatch.delenv(service.training.SESSION_QUEUE_ENV, raising=False)
    cfg = _config(tmp_path)
    first = service.start_run(quiet_store, cfg, session="alice", check=False)
    with pytest.raises(RunError) as err:
        service.start_run(quiet_store, cfg, session="alice", check=False)
    assert err.value.code == "session_queue_limit" and err.value.params["run_id"] == first
    assert err.value.params["position"] == 1 and err.value.params["limit"] == 1
    service.start_run(quiet_store, cfg, session="bob", check=False)  # another student is not held back
    service.start_run(quiet_store, cfg, check=False)  # the command line has no session
    for plan in ("head", "top"):  # a comparison is one request
        service.start_run(quiet_store, cfg.with_(plan=plan), session="carol", group="cmp-1", check=False)
    with pytest.raises(RunError):
        service.start_run(quiet_store, cfg, session="carol", group="cmp-2", check=False)
    with service.training.session_scope("alice"):  # the app's way: the session comes from the scope
        with pytest.raises(RunError):
            service.start_run(quiet_store, cfg, check=False)
    assert [r.session for r in quiet_store.queued_by("alice")] == ["alice"]


def test_the_limit_is_a_setting(quiet_store, tmp_path, monkeypatch):
    from tlcore.errors import ConfigError

    cfg = _config(tmp_path)
    monkeypatch.setenv(service.training.SESSION_QUEUE_ENV, "2")
    service.start_run(quiet_store, cfg, session="dan", check=False)
    service.start_run(quiet_store, cfg, session="dan", check=False)
    with pytest.raises(RunError):
        service.start_run(quiet_store, cfg, session="dan", check=False)
    monkeypatch.setenv(service.training.SESSION_QUEUE_ENV, "0")
    for _ in range(3):
        service.start_run(quiet_store, cfg, session="dan", check=False)
    monkeypatch.setenv(service.training.SESSION_QUEUE_ENV, "many")
    with pytest.raises(ConfigError, match="TLCORE_SESSION_QUEUE_LIMIT"):
        service.start_run(quiet_store, cfg, session="dan", check=False)


def test_a_session_with_a_running_run_may_queue_one_more(quiet_store, tmp_path):
    import json
    import os

    from tlcore.runs import process_start_time

    cfg = _config(tmp_path)
    running = service.start_run(quiet_store, cfg, session="eve", check=False)
    status = {"status": "running", "pid": os.getpid(), "pid_start": process_start_time(os.getpid())}
    (quiet_store.run_dir(running) / "status.json").write_text(json.dumps(status))  # this process stands in
    service.start_run(quiet_store, cfg, session="eve", check=False)
    with pytest.raises(RunError):
        service.start_run(quiet_store, cfg, session="eve", check=False)


@pytest.mark.parametrize("lang,words", [("en", "already have a run waiting in the queue (place 7)"),
                                        ("ko", "이미 대기열에서 기다리는 학습이 있습니다(7번째)")])
def test_the_train_page_says_why_a_second_start_waits(classroom, monkeypatch, lang, words):
    def refuse(store, config, **kw):
        err = RunError("You already have 1 run waiting.", code="session_queue_limit")
        err.params = {"limit": 1, "run_id": "r", "position": 7}
        raise err

    monkeypatch.setattr(service, "start_run", refuse)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("views/3_Train.py").run()
    at.button(key="start_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["session_key"], "the session has its key"
