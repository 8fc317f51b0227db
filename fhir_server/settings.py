"""Configuration: environment variables prefixed ``RYGGRAD_``, gathered in one settings object."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RYGGRAD_", extra="ignore")

    data_dir: Path = Field(default=Path(".ryggrad"), description="Everything the server writes to disk.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default a SQLite file under the data dir."
    )
    base_url: str = Field(default="http://127.0.0.1:8080/fhir", description="Public base of the FHIR API.")
    fhir_package_cache: Path = Field(
        default=Path.home() / ".fhir" / "packages", description="The standard FHIR package cache."
    )
    fhir_registry_url: str = Field(
        default="https://packages.fhir.org", description="FHIR package registry tried first at install."
    )
    profiles_dir: Path = Field(default=Path("profiles"), description="The project's conformance package.")
    views_dir: Path = Field(
        default=Path("mappings") / "views",
        description="The registry's ViewDefinitions (one JSON file each), materialized as tables view_<name>.",
    )

    validate_with_models: bool = Field(
        default=False,
        description="Also parse every written resource with the fhir.resources R4B models, on top of the rules "
        "compiled from the R4 StructureDefinitions. Off by default: the rules are stricter for R4 and the models "
        "cost ~0.35 ms per resource, about 40 % of transaction ingest.",
    )

    enforced_profiles: dict[str, str] = Field(
        default_factory=dict,
        description="Resource type -> profile URL every written resource of that type must conform to, whatever "
        'its meta.profile says (JSON: {"EpisodeOfCare": "https://ryggrad.no/fhir/StructureDefinition/'
        'registry-episode-of-care"}). Resources that claim a profile the server holds are always checked.',
    )

    # Limits
    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="Largest accepted request body.")
    max_json_depth: int = Field(default=64, description="Deepest accepted JSON nesting.")
    max_bundle_entries: int = Field(default=10_000, description="Most entries in one batch/transaction.")
    default_page_size: int = Field(default=20, description="Search/history page size when _count is absent.")
    max_page_size: int = Field(default=1_000, description="Largest _count honoured.")
    secret_key: str | None = Field(
        default=None,
        description="Seals paging links; default a random key kept in the data dir. Set it when several API "
        "processes on different machines serve one database.",
    )
    db_pool_size: int = Field(default=10, description="Connection pool size (PostgreSQL).")

    # Authentication (fhir_server/auth)
    auth: Literal["jwt", "dev"] = Field(
        default="jwt",
        description="jwt: tokens from the configured issuer only; dev: the built-in development issuer "
        "(`ryggrad token`), served on 127.0.0.1 only.",
    )
    auth_issuer: str | None = Field(default=None, description="The token issuer (iss) accepted in jwt mode.")
    auth_audience: str = Field(default="nhn:ryggrad", description="The audience (aud) tokens must carry.")
    auth_jwks_url: str | None = Field(
        default=None, description="The issuer's JWKS URL (keys cached, refetched when a new key id appears)."
    )
    auth_jwks_cooldown_s: float = Field(
        default=30.0,
        description="A token with an unknown key id refetches the JWKS at most this often (rotation vs. flooding).",
    )
    auth_accept_bearer: bool = Field(
        default=False,
        description="Accept plain Bearer tokens in jwt mode; otherwise only DPoP-bound ones (as HelseID issues).",
    )
    auth_leeway_s: int = Field(default=30, description="Clock skew allowed on exp, nbf, iat and DPoP proofs.")
    auth_role_claim: str = Field(default="https://ryggrad.no/claims/role", description="The project's role claim.")
    auth_token_endpoint: str | None = Field(
        default=None, description="The issuer's token endpoint, announced in .well-known/smart-configuration."
    )

    # HelseID for outbound calls (fhir_server/integrations/helseid.py)
    helseid_issuer: str | None = Field(
        default=None, description="HelseID's issuer; its discovery document names the token endpoint."
    )
    helseid_token_endpoint: str | None = Field(
        default=None, description="HelseID's token endpoint (overrides discovery through helseid_issuer)."
    )
    helseid_client_id: str | None = Field(default=None, description="Ryggrad's client id at HelseID.")
    helseid_key_file: Path | None = Field(
        default=None, description="The client's private key: a PEM file, a JWK, or a JWK set (see helseid_key_id)."
    )
    helseid_key_id: str | None = Field(
        default=None, description="The kid of the client's key (picks the key from a JWK set; names a PEM key)."
    )
    helseid_scopes: list[str] = Field(
        default_factory=list, description='The scopes requested (a JSON list, e.g. ["nhn:api/scope"]).'
    )
    helseid_refresh_skew_s: float = Field(
        default=60.0, description="Fetch a new access token this long before the cached one expires."
    )

    # Pulling appointments from an EHR that cannot push (fhir_server/integrations/dips/pull.py)
    dips_pull_url: str | None = Field(
        default=None,
        description="The FHIR base of the EHR's endpoint to poll for DIPS Appointments (…/Appointment?_lastUpdated=…); "
        "unset: pull mode is off.",
    )
    dips_pull_owner: str | None = Field(
        default=None, description="The unit (its orgnr) the pulled appointments are written for; required with the URL."
    )
    dips_pull_scopes: list[str] = Field(
        default_factory=list,
        description="The HelseID scopes of the EHR's API (a JSON list, its own audience); the token comes from the "
        "HelseID client (RYGGRAD_HELSEID_*). Unset: the endpoint is called without a token.",
    )
    dips_pull_interval_s: float = Field(default=300.0, description="How often the scheduler pulls (seconds).")
    dips_pull_page_size: int = Field(default=100, description="Appointments asked for per page (_count).")
    dips_pull_timeout_s: float = Field(default=30.0, description="HTTP timeout of one request to the EHR.")

    # Hardening
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins that may call the API from a browser (the portal's); none by default.",
    )
    rate_limit_per_minute: int = Field(
        default=1200, description="Requests per minute per client (token client id, or address when refused); 0: off."
    )

    # Workers and subscriptions (workers/, fhir_server/subscriptions)
    broker_url: str | None = Field(
        default=None,
        description="Celery broker: redis://host:6379/0 in production; default Celery's filesystem transport under "
        "the data dir (one machine, no broker process).",
    )
    broker_key_prefix: str = Field(
        default="ryggrad:", description="Prefix of every Redis key the broker uses (several servers, one Redis)."
    )
    worker_concurrency: int = Field(default=4, description="Deliveries one worker process runs at once (threads).")
    subscriber_modules: list[str] = Field(
        default_factory=list,
        description="Python modules whose internal subscribers (task channels) the workers load, besides the "
        "registry's own.",
    )
    sweep_interval_s: float = Field(
        default=1.0, description="How often the scheduler looks for undelivered events no request woke a worker for."
    )
    subscription_lease_s: float = Field(
        default=30.0,
        description="How long a worker holds a Subscription while delivering; a worker that dies is replaced after it.",
    )
    subscription_timeout_s: float = Field(default=10.0, description="HTTP timeout of one rest-hook delivery.")
    subscription_retry_base_s: float = Field(default=1.0, description="First retry delay after a failed delivery.")
    subscription_retry_max_s: float = Field(
        default=300.0, description="Longest delay between retries (exponential backoff with jitter up to it)."
    )
    subscription_error_after_s: float = Field(
        default=900.0,
        description="A Subscription failing this long goes to status error, with the reason; retries go on, and it is "
        "active again (and catches up) at the first delivery that succeeds.",
    )
    subscription_event_retention_days: float = Field(
        default=30.0, description="Delivered events are kept this long for $events replay."
    )

    # The registry workflow (workers/registry): the Decision values of the registry rules, as settings
    registry_timezone: str = Field(default="Europe/Oslo", description="The time zone forms are scheduled in.")
    registry_send_hour: int = Field(
        default=9, description="The hour (local time) a form due on a day is sent (N6: 09:00)."
    )
    registry_move_threshold_days: int = Field(
        default=30,
        description="A sent form's appointment moved by more than this many calendar days starts a new episode "
        "(N11); by this many or fewer, nothing changes (N10).",
    )
    registry_task_expiry_days: int = Field(
        default=30, description="A sent form can be answered for this many days after it is due (Task expiry)."
    )

    clock_travel: bool = Field(
        default=False,
        description="Let `ryggrad clock --travel 16d` move the server's clock forward (tests and demos only): an "
        "offset in the database that every process reads.",
    )
    registry_activation_interval_s: float = Field(
        default=15.0, description="How often the scheduler sends the forms whose time has come."
    )
    registry_dispatch_channels: list[str] = Field(
        default_factory=lambda: ["helsenorge", "email"],
        description="How a patient is told of a new form, in order: helsenorge (the Task to the portal's task "
        "endpoint, when its URL is set) and email (a link, no health data, when the patient has an address).",
    )
    registry_helsenorge_task_url: str | None = Field(
        default=None, description="Helsenorge's task endpoint (…/oppgave/v1/Task); unset: that channel is off."
    )
    registry_helsenorge_scopes: list[str] = Field(
        default_factory=list,
        description="The HelseID scopes of Helsenorge's API (a JSON list; its own audience). With a HelseID client "
        "configured (RYGGRAD_HELSEID_*), every request to Helsenorge carries a DPoP-bound token for them; unset: "
        "RYGGRAD_HELSEID_SCOPES.",
    )
    registry_helsenorge_readback_interval_s: float = Field(
        default=900.0,
        description="How often the scheduler reads back from Helsenorge where citizens are with the forms sent "
        "there (opened, answered).",
    )
    registry_helsenorge_readback_batch: int = Field(
        default=200,
        description="At most this many forms are read back from Helsenorge in one run (the next run "
        "goes on from there).",
    )
    registry_portal_url: str = Field(
        default="http://127.0.0.1:8080/portal", description="The patient portal, linked from e-mails."
    )
    registry_code_lifetime_s: int = Field(
        default=3600,
        description="How long a one-time code for a clinic tablet (N8, Task/$issue-code) can be redeemed.",
    )
    registry_code_session_s: int = Field(
        default=3600, description="How long the tablet may work on the form after the code is redeemed."
    )
    registry_code_attempts_per_minute: int = Field(
        default=10,
        description="One-time code redemptions per minute per address (and 30 times that from all addresses "
        "together); beyond it, 429.",
    )
    registry_smtp_host: str | None = Field(default=None, description="SMTP server for e-mails; unset: e-mail is off.")
    registry_smtp_port: int = Field(default=587, description="SMTP port.")
    registry_smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    registry_smtp_username: str | None = Field(default=None, description="SMTP user, if the server needs one.")
    registry_smtp_password: str | None = Field(default=None, description="SMTP password.")
    registry_mail_from: str = Field(
        default="ikke-svar@localhost",
        description="The sender of e-mails; choose one that names no clinic or condition (it is health data too).",
    )

    # Scoring (workers/scoring): the missing-item limits of section 4 of the registry rules, and the EQ-5D value set
    scoring_odi_max_missing: int = Field(
        default=2, description="ODI is scored with at most this many sections missing."
    )
    scoring_ndi_max_missing: int = Field(default=2, description="NDI is scored with at most this many items missing.")
    scoring_hscl10_min_answered: int = Field(default=7, description="HSCL-10 is scored from this many items answered.")
    scoring_fabq_max_missing: int = Field(
        default=0, description="Each FABQ subscale is scored with at most this many of its items missing."
    )
    scoring_uhi_min_answered: int = Field(
        default=3, description="The UHI complaint count is given from this many items answered."
    )
    scoring_eq5d_value_set: str = Field(
        default="dk-2021",
        description="The EQ-5D-5L value set the index is computed with: a file <name>.json in workers/scoring/"
        "value_sets/ or in scoring_value_set_dir.",
    )
    scoring_value_set_dir: Path | None = Field(
        default=None, description="A folder of further EQ-5D-5L value sets (JSON, as the shipped ones)."
    )

    # Bulk Data $export (fhir_server/bulk): jobs run by the workers, NDJSON files under the data dir
    bulk_retention_s: float = Field(
        default=24 * 3600.0,
        description="A finished export (its files and its job) is removed this long after it completed or failed; "
        "its status URL then answers 404.",
    )
    bulk_file_max_resources: int = Field(
        default=10_000, description="An export file rolls over to the next after this many resources."
    )
    bulk_file_max_bytes: int = Field(
        default=64 * 1024 * 1024, description="… or once it is this large (bytes), whichever comes first."
    )
    bulk_page_size: int = Field(
        default=1_000, description="Resources asked for per search page while exporting (up to max_page_size)."
    )
    bulk_retry_after_s: int = Field(
        default=5, description="The Retry-After (seconds) a status request of a running export is answered with."
    )
    bulk_max_jobs_per_client: int = Field(
        default=4, description="Exports one client may have queued or running at once; beyond it, 429."
    )
    bulk_stale_after_s: float = Field(
        default=120.0,
        description="A running export whose worker has not reported for this long is taken over by another (the "
        "worker died); a queued one not started for this long is queued again.",
    )
    bulk_max_attempts: int = Field(
        default=3, description="An export taken over this many times without finishing is given up (failed)."
    )
    bulk_sweep_interval_s: float = Field(
        default=30.0, description="How often the scheduler resumes stalled exports and removes expired ones."
    )

    # Quality indicators (fhir_server/indicators): the display rules of section 5 of the registry rules
    indicator_minimum_denominator: int = Field(
        default=30, description="A unit-period with fewer episodes in the denominator shows N<30 and no share."
    )
    indicator_low_coverage: float = Field(default=0.6, description="A unit whose coverage is below this is flagged.")
    indicator_store_interval_s: float = Field(
        default=6 * 3600.0,
        description="How often the scheduler stores the indicators' MeasureReports (last quarter and year).",
    )

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ryggrad.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
