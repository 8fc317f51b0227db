"""The registry's workers: a Celery app (``celery_app``) whose tasks deliver Subscription notifications
(``tasks``) and run the registry's own subscribers (task channels)."""
