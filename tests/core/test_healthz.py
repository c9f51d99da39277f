import pytest
from celery import Celery

from apps.core import views

pytestmark = pytest.mark.django_db


def test_health_reports_every_service_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_health_is_503_when_the_broker_does_not_answer(client, monkeypatch):
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    # Celery lets CELERY_BROKER_URL in the environment win over configuration, so set both. The
    # stand-in app must not become the current app, or shared tasks would follow it.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setattr(views, "celery_app", Celery("unreachable", set_as_current=False))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"
    assert "127.0.0.1:9" not in response.content.decode()


def test_health_is_503_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "down", "broker": "ok"}
