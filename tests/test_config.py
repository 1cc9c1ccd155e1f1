import pytest

from livecut.config import ConfigError, load_config


def test_defaults_load_and_user_file_overrides_only_its_keys(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text('[segments]\nmin_s = 3.5\n[asr]\nlanguage = "en"\n')
    config = load_config(user)
    assert config["segments"]["min_s"] == 3.5
    assert config["segments"]["max_s"] == load_config()["segments"]["max_s"]
    assert config["asr"]["language"] == "en"


def test_unknown_key_is_an_error_naming_it(tmp_path):
    user = tmp_path / "typo.toml"
    user.write_text("[segments]\nmin_seconds = 3\n")
    with pytest.raises(ConfigError, match="segments.min_seconds"):
        load_config(user)


def test_taxonomy_accepts_new_classes(tmp_path):
    user = tmp_path / "tax.toml"
    user.write_text('[taxonomy.selling_point.scent]\ndescription = "smell"\nexamples = ["香味很淡雅"]\n')
    config = load_config(user)
    assert config["taxonomy"]["selling_point"]["scent"]["examples"] == ["香味很淡雅"]
    assert "fabric" in config["taxonomy"]["selling_point"]


def test_missing_and_malformed_files_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[asr\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_rtmp_limits_come_from_the_config_and_a_bad_one_names_its_key(tmp_path):
    from livecut.runtime.server import rtmp_limits
    from stream.rtmp import RtmpLimits

    assert rtmp_limits(load_config()["rtmp"]) == RtmpLimits()  # config.toml and the code agree on defaults
    user = tmp_path / "rtmp.toml"
    user.write_text("[rtmp]\nmax_connections = 0\n")
    with pytest.raises(ConfigError, match="rtmp.max_connections must be positive"):
        rtmp_limits(load_config(user)["rtmp"])


def test_ingest_max_sessions_is_checked(tmp_path):
    from livecut.runtime.server import max_ingest_sessions

    assert max_ingest_sessions(load_config()["ingest"]) == 32
    for bad in ("0", "2.5", '"many"'):
        user = tmp_path / "ingest.toml"
        user.write_text(f"[ingest]\nmax_sessions = {bad}\n")
        with pytest.raises(ConfigError, match="ingest.max_sessions must be a whole number of at least 1"):
            max_ingest_sessions(load_config(user)["ingest"])
