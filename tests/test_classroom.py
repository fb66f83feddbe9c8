"""One server, a whole class (issue #18): simultaneous uploads, light waiting runs, and a cache that stays within its cap."""
from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import make_image_folder, wait_for
from tlcore import diskcache, service
from tlcore.config import TrainConfig
from tlcore.runs import RunStore


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(d))
    return d


def _zip_bytes(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder.parent).as_posix())
    return buf.getvalue()


def test_six_simultaneous_identical_uploads_store_one_copy(cache, tmp_path):
    data = _zip_bytes(make_image_folder(tmp_path / "pets", classes=2, per_class=30, size=32))
    start = threading.Barrier(6)
    results, errors = [], []

    def student():
        start.wait()
        try:
            results.append(service.save_upload("pets.zip", data))
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            errors.append(repr(exc))

    threads = [threading.Thread(target=student) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == [] and len(results) == 6
    assert len(set(results)) == 1, "every session opens the same extraction"
    uploads = [p for p in (cache / "uploads").iterdir() if not p.name.startswith(".")]
    assert len(uploads) == 1, "one stored copy"
    assert service.open_data(results[0]).num_images == 60


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc to read memory")
def test_waiting_runs_stay_light(tiny_dataset, runs_dir, monkeypatch):
    """Queued runs wait with the standard library and tlcore's light modules: torch comes with their slot."""
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.1")  # the first run holds the only slot for a while
    store = RunStore(runs_dir, max_concurrent=1)
    cfg = TrainConfig(data=str(tiny_dataset), model="labnet", plan="head", weights="none", epochs=50)
    first = store.start(cfg)
    assert wait_for(lambda: store.get(first).status == "running", 60)
    waiting = [store.start(cfg.with_(epochs=1)) for _ in range(4)]
    assert wait_for(lambda: all(store.get(r).pid and store.get(r).status == "queued" for r in waiting), 30)
    time.sleep(1.0)  # let each worker reach its wait for a slot
    sizes = [_rss_mb(store.get(r).pid) for r in waiting]
    training = _rss_mb(store.get(first).pid)
    print(f"resident memory: waiting runs {', '.join(f'{s:.0f}' for s in sizes)} MB; training run {training:.0f} MB")
    assert all(0 < s < 60 for s in sizes), sizes
    assert training > 3 * max(sizes), "a training run (with torch) is far heavier than a waiting one"
    for r in [first, *waiting]:
        store.stop(r, wait=True)


def _entry(cache: Path, kind: str, name: str, size: int, age_s: float) -> Path:
    d = cache / diskcache.KINDS[kind] / name
    d.mkdir(parents=True)
    (d / "blob").write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(d, (t, t))
    return d


def test_eviction_removes_least_recently_used_and_never_what_is_in_use(cache):
    old_upload = _entry(cache, "uploads", "u-old", 4000, age_s=5 * 3600)
    newer_upload = _entry(cache, "uploads", "u-newer", 4000, age_s=4 * 3600)
    live_run_data = _entry(cache, "extracted", "x-live", 4000, age_s=6 * 3600)  # oldest, but a live run reads it
    open_session = _entry(cache, "features", "f-open", 4000, age_s=60)  # used a minute ago
    lab = _entry(cache, "lab", "s0.30-n100", 4000, age_s=9 * 3600)  # not evictable
    built = _entry(cache, "built", "my-set", 4000, age_s=9 * 3600)  # exists nowhere else
    assert diskcache.usage()["bytes"] == 24000
    freed = diskcache.evict(limit=20000, protected=[live_run_data / "blob"])
    assert freed == 4000 and not old_upload.exists(), "the least recently used goes first"
    assert newer_upload.exists() and live_run_data.exists() and open_session.exists()
    freed = diskcache.evict(limit=0, protected=[live_run_data])
    assert freed == 4000 and not newer_upload.exists()
    assert live_run_data.exists() and open_session.exists() and lab.exists() and built.exists()
    assert not [p for p in (cache / "uploads").iterdir() if p.name.startswith(".trash")], "nothing half-removed left"


def test_cache_limit_setting(monkeypatch):
    from tlcore.errors import ConfigError

    monkeypatch.setenv("TLCORE_CACHE_MAX_GB", "0.5")
    assert diskcache.limit_bytes() == 500_000_000
    monkeypatch.delenv("TLCORE_CACHE_MAX_GB")
    assert diskcache.limit_bytes() == int(diskcache.DEFAULT_MAX_GB * 1e9)
    for bad in ("-1", "lots", "0"):
        monkeypatch.setenv("TLCORE_CACHE_MAX_GB", bad)
        with pytest.raises(ConfigError, match="TLCORE_CACHE_MAX_GB"):
            diskcache.limit_bytes()


def test_uploads_past_the_cap_evict_older_ones_but_not_a_live_runs(cache, tmp_path, monkeypatch):
    first = service.save_upload("a.zip", _zip_bytes(make_image_folder(tmp_path / "a", classes=2, per_class=20, size=32)))
    size = diskcache.usage()["bytes"]
    monkeypatch.setenv("TLCORE_CACHE_MAX_GB", str(1.5 * size / 1e9))  # room for one upload, not two
    for entry in (cache / "uploads").iterdir():
        os.utime(entry, (time.time() - 7200,) * 2)  # used two hours ago
    second = service.save_upload("b.zip", _zip_bytes(make_image_folder(tmp_path / "b", classes=2, per_class=20, size=32)))
    assert second.is_dir() and not first.exists(), "the older, unused upload made room"
    usage = service.cache_usage()
    assert usage["bytes"] <= usage["limit_bytes"] and usage["kinds"]["uploads"] == usage["bytes"]


def test_clear_cache_keeps_the_data_of_live_runs(cache, tmp_path, runs_dir):
    root = service.save_upload("a.zip", _zip_bytes(make_image_folder(tmp_path / "a", classes=2, per_class=4, size=16)))
    other = service.save_upload("b.zip", _zip_bytes(make_image_folder(tmp_path / "b", classes=3, per_class=4, size=16)))
    store = RunStore(runs_dir)
    run_id = store.create(TrainConfig(data=str(root), model="labnet", plan="head", weights="none"))
    from tlcore.runs import process_start_time

    status = '{"status": "running", "pid": %d, "pid_start": %d}' % (os.getpid(), process_start_time(os.getpid()))
    (runs_dir / run_id / "status.json").write_text(status)  # this test's own process stands in for a live worker
    freed = service.clear_cache(store, keep_in_use=False)
    assert freed > 0 and root.exists() and not other.exists()
