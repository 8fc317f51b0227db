"""The FHIR server as an object: settings, database, definitions and validator, and one method to run a request."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from fhir_server.audit.events import audit_event, touched
from fhir_server.audit.trail import AuditTrail
from fhir_server.auth.authenticate import Authenticator
from fhir_server.auth.dev_issuer import DevIssuer
from fhir_server.auth.one_time_codes import OneTimeCodes, tablet_principal
from fhir_server.auth.ownership import Ownership, refuse_label_searches
from fhir_server.auth.principal import Principal
from fhir_server.auth.replay import replay_cache
from fhir_server.auth.tokens import TokenVerifier
from fhir_server.clock import Clock
from fhir_server.definitions.registry import CORE_BASE, Definitions, default_definitions
from fhir_server.errors import FhirError, Issue
from fhir_server.http.hardening import RateLimiter
from fhir_server.rest.context import Context, utc_now
from fhir_server.rest.interactions.capabilities import capability_statement
from fhir_server.rest.messages import FhirRequest, FhirResponse
from fhir_server.rest.router import dispatch, is_read_only
from fhir_server.search.compartment import Compartments
from fhir_server.search.elements import ElementFilter
from fhir_server.search.index import ResourceIndexer
from fhir_server.search.paging import PageTokens
from fhir_server.search.query import SearchParameterRegistry, SearchPlan, build_conditions
from fhir_server.secret_key import server_key
from fhir_server.settings import Settings
from fhir_server.storage.engine import Database
from fhir_server.subscriptions.active import ActiveSubscriptions
from fhir_server.subscriptions.channels.rest_hook import RestHook
from fhir_server.subscriptions.outbox import record
from fhir_server.subscriptions.topics import Topics
from fhir_server.subscriptions.wake import Waker
from fhir_server.validation.profile import ProfileValidator
from fhir_server.validation.questionnaire_response import QuestionnaireResponseValidator
from fhir_server.validation.structure import ResourceValidator


class FhirServer:
    def __init__(
        self, settings: Settings, *, db: Database | None = None, definitions: Definitions | None = None
    ) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.db = db or Database(settings.resolved_database_url, pool_size=settings.db_pool_size)
        self.definitions = definitions or default_definitions(settings)
        self.started_at = utc_now()
        self._searchable: dict[str, frozenset[str]] = {}
        self._capabilities: dict[str, Any] | None = None

    @cached_property
    def validator(self) -> ResourceValidator:
        return ResourceValidator(self.definitions, check_models=self.settings.validate_with_models)

    @cached_property
    def profile_validator(self) -> ProfileValidator:
        return ProfileValidator(self.definitions)

    def profiles_for(self, resource: dict[str, Any]) -> list[str]:
        """The profiles a written resource is checked against: those it claims that the server holds, and the
        one the settings enforce for its type."""
        meta = resource.get("meta")
        claimed = meta.get("profile") if isinstance(meta, dict) else None
        urls = [u for u in claimed if isinstance(u, str)] if isinstance(claimed, list) else []
        enforced = self.settings.enforced_profiles.get(str(resource.get("resourceType")))
        if enforced:
            urls.append(enforced)
        if resource.get("resourceType") == "Questionnaire":  # its own invariants (que-*): can it be filled in?
            urls.append(CORE_BASE + "Questionnaire")
        known = [u for u in dict.fromkeys(urls) if self.profile_validator.knows(u)]
        return known

    @cached_property
    def response_validator(self) -> QuestionnaireResponseValidator:
        return QuestionnaireResponseValidator(self.definitions)

    @cached_property
    def indexer(self) -> ResourceIndexer:
        """Index rows of a resource, from every SearchParameter that applies to its type."""
        return ResourceIndexer(self.definitions, base_url=self.settings.base_url)

    @cached_property
    def dev_issuer(self) -> DevIssuer | None:
        """The development issuer, in ``RYGGRAD_AUTH=dev`` mode only."""
        return DevIssuer(self.settings) if self.settings.auth == "dev" else None

    @cached_property
    def authenticator(self) -> Authenticator:
        """Access tokens (and DPoP proofs) → the caller; built when the HTTP app starts, so a bad configuration
        stops it there."""
        verifier = TokenVerifier(self.settings, self.dev_issuer)
        return Authenticator(self.settings, verifier, replay_cache(self.db), self._tablet_session)

    @cached_property
    def one_time_codes(self) -> OneTimeCodes:
        """Codes that open one form on a clinic tablet (N8)."""
        settings = self.settings
        key = server_key(settings, "one-time-codes")
        return OneTimeCodes(key, settings.registry_code_lifetime_s, settings.registry_code_session_s)

    def _tablet_session(self, token: str) -> Principal | None:
        with self.db.reading() as conn:
            grant = self.one_time_codes.session(conn, token, self.clock())
        return tablet_principal(grant) if grant is not None else None

    @cached_property
    def code_attempts(self) -> tuple[RateLimiter, RateLimiter]:
        """One-time code redemptions: (per address, from all addresses together)."""
        per_minute = self.settings.registry_code_attempts_per_minute
        return RateLimiter(per_minute, burst=per_minute), RateLimiter(30 * per_minute, burst=30 * per_minute)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.settings.rate_limit_per_minute)

    @cached_property
    def page_tokens(self) -> PageTokens:
        return PageTokens(server_key(self.settings, "search-paging"))

    @property
    def resource_types(self) -> frozenset[str]:
        return self.definitions.resource_types

    @cached_property
    def search_registry(self) -> SearchParameterRegistry:
        return SearchParameterRegistry(self.definitions)

    def searchable(self, resource_type: str) -> frozenset[str]:
        """The SearchParameter codes a search on ``resource_type`` can use."""
        if resource_type not in self._searchable:
            params = self.search_registry.parameters(resource_type)
            self._searchable[resource_type] = frozenset(code for code, p in params.items() if p.supported)
        return self._searchable[resource_type]

    def param_types(self, resource_type: str) -> dict[str, str]:
        """SearchParameter code → type for ``resource_type`` (for ``_sort``)."""
        return self.search_registry.param_types(resource_type)

    def search_plan(
        self,
        resource_type: str | None,
        params: list[tuple[str, str]],
        *,
        strict: bool,
        ownership: Ownership | None = None,
    ) -> SearchPlan:
        """The matching half of a search (``resource_type`` None: across types): conditions on ``resource``, the
        parameters used and those ignored. ``ownership``: the caller's unit, which chains and ``_has`` look
        through only at what it may see (the searched type's own restriction is the caller's to add), and which
        may not search by security labels (they name the other units that own a resource)."""
        if ownership is not None and not ownership.sees_all:
            refuse_label_searches(params)
        return build_conditions(
            resource_type,
            params,
            self.search_registry,
            strict=strict,
            base_url=self.settings.base_url,
            dialect=self.db.dialect,
            visible=ownership.condition if ownership is not None and not ownership.sees_all else None,
        )

    @cached_property
    def compartments(self) -> Compartments:
        return Compartments(self.definitions)

    @cached_property
    def element_filter(self) -> ElementFilter:
        return ElementFilter(self.definitions)

    def capability_statement(self, ctx: Context) -> dict[str, Any]:
        if self._capabilities is None:
            self._capabilities = capability_statement(ctx)
        return self._capabilities

    def warm_up(self) -> None:
        """Compile the validation rules and read the SearchParameters now, not on the first requests."""
        self.validator.warm_up()
        self.indexer.compile_all()
        for resource_type in self.resource_types:
            self.searchable(resource_type)

    @cached_property
    def time(self) -> Clock:
        return Clock(self.db, self.settings.clock_travel)

    def clock(self) -> datetime:
        """Now (naive UTC): the system clock, moved forward where ``RYGGRAD_CLOCK_TRAVEL`` allows (``clock.py``)."""
        return self.time.now()

    def execute(self, req: FhirRequest, *, in_bundle: bool = False) -> FhirResponse:
        """``_execute``, its answer as the caller's unit may see it (``Ownership.shown``); a researcher's through
        the research gateway (de-identified, within the data release)."""
        if req.principal is not None and req.principal.role == "researcher" and not in_bundle:
            from fhir_server.research import gateway

            return gateway.execute(self, req, self._execute)
        response = self._execute(req, in_bundle=in_bundle)
        ownership = Ownership.of(req.principal)
        if not ownership.sees_all and response.resource is not None:
            response.resource = ownership.shown(response.resource)
        return response

    def _execute(self, req: FhirRequest, *, in_bundle: bool = False) -> FhirResponse:
        """Run one request in its own database transaction (all-or-nothing). A caller's request (``principal``
        set) leaves an AuditEvent: in the same transaction when it writes, soon after when it reads or fails."""
        audited = req.principal is not None and not in_bundle
        try:
            if not req.path.strip("/") and req.method == "POST" and not in_bundle:
                from fhir_server.rest.transaction import process_bundle

                if req.principal is not None and req.principal.role == "patient":
                    raise FhirError(403, [Issue("forbidden", "Access denied: patients do not send Bundles")])
                response = process_bundle(self, req.body, req.header("prefer"), req.principal)
                if audited:
                    kind = req.body.get("type") if isinstance(req.body, dict) else None
                    self.audit.record(self._audit_event(req, response, kind=kind))
                return response
            read_only = is_read_only(req)
            transaction = self.db.reading() if read_only else self.db.writing()
            wake: list[str] = []
            with transaction as conn:
                ctx = Context(self, conn, in_bundle=in_bundle, principal=req.principal)
                response = dispatch(ctx, req)
                if not read_only:
                    wake = record(ctx)  # the outbox rows, in this transaction
                if audited:
                    event = self._audit_event(req, response)
                    if read_only:
                        self.audit.record(event)
                    else:
                        self.audit.write_now(conn, [event], ctx.now)
            self.wake(wake)
            return response
        except FhirError as error:
            if audited:
                reason = error.issues[0].diagnostics if error.issues else None
                self.audit.record(self._audit_event(req, FhirResponse(error.status), description=reason))
            raise

    def _audit_event(
        self, req: FhirRequest, response: FhirResponse, *, kind: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        return audit_event(
            principal=req.principal,
            method=req.method,
            path=req.path,
            query=req.query,
            status=response.status,
            recorded=self.clock(),
            targets=touched(req, response),
            kind=kind,
            description=description,
        )

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self)

    # -- subscriptions ------------------------------------------------------------------------------------------
    @cached_property
    def topics(self) -> Topics:
        """The subscription topics offered (``profiles/topics/``)."""
        return Topics.load(self.settings.profiles_dir / "topics")

    @cached_property
    def active_subscriptions(self) -> ActiveSubscriptions:
        return ActiveSubscriptions(self.topics)

    @cached_property
    def rest_hook(self) -> RestHook:
        return RestHook(self.settings.subscription_timeout_s)

    @cached_property
    def waker(self) -> Waker:
        return Waker(self.settings)

    def wake(self, subscription_ids: list[str]) -> None:
        """Ask the workers to deliver these Subscriptions' new events (after the commit that wrote them)."""
        if subscription_ids:
            self.waker.wake(subscription_ids)

    def close(self) -> None:
        if "audit" in self.__dict__:
            self.audit.close()
        if "waker" in self.__dict__:
            self.waker.close()
        if "rest_hook" in self.__dict__:
            self.rest_hook.close()
        self.db.dispose()
