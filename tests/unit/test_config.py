"""Configuration: read from INFUSYNC_* once; production refuses to start without secrets."""

import base64
import os
import stat

import pytest

from server import create_app
from server.config import ConfigError, from_environment


def test_environment_variables_map_to_flask_config():
    config = from_environment({
        "INFUSYNC_DATABASE_URL": "postgresql+psycopg://db/agency",
        "INFUSYNC_TOKEN_IDLE_MINUTES": "20",
        "INFUSYNC_ENV": "production",
    })
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/agency"
    assert config["TOKEN_IDLE_MINUTES"] == 20
    assert config["TOKEN_MAX_HOURS"] == 12
    assert config["INFUSYNC_ENV"] == "production"


def test_a_malformed_number_names_the_variable():
    with pytest.raises(ConfigError, match="INFUSYNC_TOKEN_IDLE_MINUTES"):
        from_environment({"INFUSYNC_TOKEN_IDLE_MINUTES": "soon"})


def test_development_generates_keys_once_owner_only(tmp_path):
    overrides = {"INFUSYNC_INSTANCE_PATH": str(tmp_path),
                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"}
    first = create_app(overrides)
    key_file = tmp_path / "keys" / "data_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "keys" / "secret_key").st_mode) == 0o600
    second = create_app(overrides)
    assert first.config["INFUSYNC_DATA_KEY"] == second.config["INFUSYNC_DATA_KEY"]
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["INFUSYNC_DATA_KEY"]) == 32


def test_production_refuses_to_start_without_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"INFUSYNC_SECRET_KEY_FILE|INFUSYNC_DATA_KEY_FILE"):
        create_app({"INFUSYNC_ENV": "production", "INFUSYNC_INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    assert not (tmp_path / "keys").exists()


def test_production_refuses_to_start_without_a_database_url(tmp_path):
    with pytest.raises(ConfigError, match="INFUSYNC_DATABASE_URL"):
        create_app({"INFUSYNC_ENV": "production", "INFUSYNC_INSTANCE_PATH": str(tmp_path)})


def test_production_starts_with_key_files(tmp_path):
    key = tmp_path / "data.key"
    key.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    app = create_app({
        "INFUSYNC_ENV": "production", "INFUSYNC_INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", "SECRET_KEY": "s" * 64,
        "INFUSYNC_DATA_KEY_FILE": str(key),
    })
    assert app.config["INFUSYNC_DATA_KEY"] == base64.urlsafe_b64decode(key.read_text() + "==")


def test_a_short_key_file_is_refused(tmp_path):
    key = tmp_path / "data.key"
    key.write_text("c2hvcnQ")
    with pytest.raises(ConfigError, match="at least 32"):
        create_app({"INFUSYNC_ENV": "production", "INFUSYNC_INSTANCE_PATH": str(tmp_path),
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", "SECRET_KEY": "s" * 64,
                    "INFUSYNC_DATA_KEY_FILE": str(key)})


def test_rate_limits_are_read_from_the_environment():
    config = from_environment({"INFUSYNC_RATE_LIMIT_PER_TOKEN": "100/minute;5/second",
                               "INFUSYNC_RATE_LIMIT_ENABLED": "false",
                               "INFUSYNC_RATE_LIMIT_STORAGE_URL": "redis://cache:6379/2"})
    assert config["RATE_LIMIT_PER_TOKEN"] == "100/minute;5/second"
    assert config["RATE_LIMIT_ENABLED"] is False
    assert config["RATE_LIMIT_STORAGE_URL"] == "redis://cache:6379/2"
    defaults = from_environment({})
    assert defaults["RATE_LIMIT_ENABLED"] is True
    assert defaults["RATE_LIMIT_STORAGE_URL"] == "memory://"


@pytest.mark.parametrize("value", ["600 a minute", "", "minute/600"])
def test_a_rate_limit_that_does_not_parse_refuses_to_start(tmp_path, value):
    with pytest.raises(ConfigError, match="INFUSYNC_RATE_LIMIT_PER_DEVICE"):
        create_app({"INFUSYNC_INSTANCE_PATH": str(tmp_path), "RATE_LIMIT_PER_DEVICE": value,
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})


def test_a_rate_limit_storage_it_cannot_use_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="INFUSYNC_RATE_LIMIT_STORAGE_URL"):
        create_app({"INFUSYNC_INSTANCE_PATH": str(tmp_path),
                    "RATE_LIMIT_STORAGE_URL": "carrier-pigeon://loft",
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})


def test_production_warns_when_rate_limits_are_counted_per_process(tmp_path, capsys):
    key = tmp_path / "data.key"
    key.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    production = {"INFUSYNC_ENV": "production", "INFUSYNC_INSTANCE_PATH": str(tmp_path),
                  "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", "SECRET_KEY": "s" * 64,
                  "INFUSYNC_DATA_KEY_FILE": str(key)}
    create_app(production)
    assert "rate limits are counted per process" in capsys.readouterr().err
    create_app({**production, "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"})
    assert "rate limits are counted per process" not in capsys.readouterr().err


def test_mfa_required_roles_are_a_trimmed_comma_separated_list():
    assert from_environment({})["MFA_REQUIRED_ROLES"] == ("admin", "privacy_officer")
    config = from_environment({"INFUSYNC_MFA_REQUIRED_ROLES": " Coordinator, qc ,,"})
    assert config["MFA_REQUIRED_ROLES"] == ("coordinator", "qc")


def test_an_unknown_mfa_role_refuses_to_start(tmp_path):
    overrides = {"INFUSYNC_INSTANCE_PATH": str(tmp_path),
                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3",
                 "MFA_REQUIRED_ROLES": ("admin", "coordinater")}
    with pytest.raises(ConfigError, match="INFUSYNC_MFA_REQUIRED_ROLES: unknown roles coordinater"):
        create_app(overrides)


def test_a_metrics_token_short_enough_to_guess_is_refused_at_start():
    with pytest.raises(ConfigError, match="INFUSYNC_METRICS_TOKEN: must be at least 32"):
        from_environment({"INFUSYNC_METRICS_TOKEN": "prometheus"})
    token = "0123456789abcdef" * 4
    assert from_environment({"INFUSYNC_METRICS_TOKEN": f" {token}\n"})["METRICS_TOKEN"] == token
    assert "METRICS_TOKEN" not in from_environment({})


def test_the_database_pool_holds_as_many_connections_as_asked(tmp_path):
    from server.extensions import db

    app = create_app({"INFUSYNC_INSTANCE_PATH": str(tmp_path), "DATABASE_POOL_SIZE": 8,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})
    with app.app_context():
        assert db.engine.pool.size() == 8
        db.engine.dispose()
    assert from_environment({"INFUSYNC_DATABASE_POOL_SIZE": "8"})["DATABASE_POOL_SIZE"] == 8
    with pytest.raises(ConfigError, match="INFUSYNC_DATABASE_POOL_SIZE"):
        from_environment({"INFUSYNC_DATABASE_POOL_SIZE": "0"})
