"""The registries' patient forms as Helsenorge ``sdf`` Questionnaires (norway.md): NNRR's pre-consultation form and
its 6- and 12-month follow-ups; OPR's baseline, short baseline (with its reason list) and follow-up. Each is
versioned (responses keep the version they answered, P9) and carries the service-area label and language tag
Helsenorge expects. The clinician form comes with the clinician pages."""

from __future__ import annotations

from typing import Any

from forms.instruments import (
    EQ5D,
    FABQ,
    HSCL10,
    LPFS,
    NDI,
    ODI,
    UHI,
    VALIDATION_TEXT,
    choice_item,
    integer_item,
    scale_item,
)

CANONICAL = "https://ryggrad.no/fhir/Questionnaire/"
CANONICAL_CS = "https://ryggrad.no/fhir/CodeSystem/"
VERSION = "1.0.0"
SDF = "http://ehelse.no/fhir/StructureDefinition/"

PAIN_REGIONS = [(f"r{n:02d}", f"Område {n}") for n in range(1, 33)]
SHORT_BASELINE_REASONS = [
    ("no-device", "Har ikke PC, telefon eller nettbrett"),
    ("login-problems", "Tekniske problemer med å logge inn"),
    ("own-equipment", "Tekniske problemer med eget utstyr"),
    ("did-not-understand", "Forsto ikke at skjemaet skulle fylles ut før timen"),
    ("declined", "Ønsket ikke å delta"),
    ("could-not-answer", "Kunne ikke svare selv"),
    ("no-id-device", "Har ikke elektronisk ID"),
    ("forgot", "Hadde glemt det"),
    ("other", "Annet"),
]


#: Who fills a form in (``useContext`` of type user): the clinician forms are told apart from the patients' by it.
PATIENT = {"system": "http://snomed.info/sct", "code": "116154003", "display": "Patient"}
HEALTH_PROFESSIONAL = {"system": "http://snomed.info/sct", "code": "223366009", "display": "Healthcare professional"}


def _form(
    key: str, title: str, items: list[dict[str, Any]], registry: str, user: dict[str, str] = PATIENT
) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": key,
        "meta": {
            "profile": [SDF + "sdf-Questionnaire"],
            "security": [{"system": "urn:oid:2.16.578.1.12.4.1.1.7618", "code": "3", "display": "Helsehjelp"}],
            "tag": [{"system": "urn:ietf:bcp:47", "code": "nb-NO", "display": "Norsk bokmål"}],
        },
        "language": "nb-NO",
        "extension": [
            {
                "url": SDF + "sdf-authenticationrequirement",
                "valueCoding": {"system": "http://ehelse.no/fhir/CodeSystem/AuthenticationRequirement", "code": "3"},
            },
            {
                "url": SDF + "sdf-save-capabilities",
                "valueCoding": {"system": "http://helsenorge.no/fhir/CodeSystem/SaveCapabilites", "code": "1"},
            },
        ],
        "url": CANONICAL + key,
        "version": VERSION,
        "name": key.replace("-", "_"),
        "title": title,
        "status": "active",
        "useContext": [
            {
                "code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "program"},
                "valueCodeableConcept": {
                    "coding": [{"system": "https://ryggrad.no/fhir/CodeSystem/registry", "code": registry}]
                },
            },
            {
                "code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "user"},
                "valueCodeableConcept": {"coding": [user]},
            },
        ],
        "item": items,
    }


def _consent() -> dict[str, Any]:
    """N2: the form cannot be submitted without this box ticked (its only option, and required)."""
    item = choice_item(
        "consent",
        "Jeg samtykker til at opplysningene registreres i registeret og kan brukes til forskning (se hva som "
        "registreres og hvorfor)",
        [("given", "Jeg samtykker")],
        required=True,
    )
    item["extension"].append({"url": VALIDATION_TEXT, "valueString": "Du må samtykke for å sende skjemaet"})
    return item


def _background() -> dict[str, Any]:
    return {
        "linkId": "background",
        "text": "Om deg og plagene",
        "type": "group",
        "item": [
            choice_item(
                "education",
                "Høyeste fullførte utdanning",
                [
                    ("primary", "Grunnskole"),
                    ("secondary", "Videregående"),
                    ("higher-short", "Høyskole/universitet inntil 4 år"),
                    ("higher-long", "Høyskole/universitet mer enn 4 år"),
                ],
            ),
            choice_item(
                "pain-duration",
                "Hvor lenge har du hatt plagene?",
                [("lt3m", "Under 3 måneder"), ("3-12m", "3-12 måneder"), ("1-2y", "1-2 år"), ("gt2y", "Mer enn 2 år")],
            ),
            scale_item("pain-rest", "Smerte i hvile siste uke (0-10)", "0-10", code="pain-nrs-rest"),
            scale_item("pain-activity", "Smerte i aktivitet siste uke (0-10)", "0-10", code="pain-nrs-activity"),
            choice_item(
                "analgesics",
                "Bruker du smertestillende?",
                [("daily", "Daglig"), ("weekly", "Ukentlig"), ("rarely", "Sjelden"), ("never", "Aldri")],
            ),
            choice_item(
                "physical-activity",
                "Hvor ofte er du fysisk aktiv?",
                [
                    ("never", "Aldri"),
                    ("weekly-lt1", "Sjeldnere enn én gang i uken"),
                    ("weekly-1", "Én gang i uken"),
                    ("weekly-2-3", "2-3 ganger i uken"),
                    ("daily", "Nesten hver dag"),
                ],
            ),
            choice_item(
                "earlier-treatment",
                "Tidligere behandling for plagene",
                [("physio", "Fysioterapi"), ("chiro", "Kiropraktor"), ("surgery", "Operasjon"), ("other", "Annet")],
                repeats=True,
            ),
            _work_status(),
            _sick_leave_percent(),
        ],
    }


def _work_status() -> dict[str, Any]:
    return choice_item(
        "work-status",
        "Arbeidssituasjon nå",
        [
            ("working", "I arbeid"),
            ("sick-leave", "Sykmeldt"),
            ("unemployed", "Arbeidsledig"),
            ("student", "Student"),
            ("aap", "Arbeidsavklaringspenger"),
            ("pension", "Pensjonist/uføretrygdet"),
        ],
        repeats=True,
    )


def _sick_leave_percent() -> dict[str, Any]:
    """How much the patient is on sick leave (the indicators compare it between baseline and 6 months)."""
    return _percent("sick-leave-percent", "Sykmeldingsprosent", ("work-status", "sick-leave"))


def _pain_drawing() -> dict[str, Any]:
    item = choice_item("pain-drawing", "Marker områdene der du har smerter", PAIN_REGIONS, repeats=True)
    item["code"] = [{"system": "https://ryggrad.no/fhir/CodeSystem/instrument", "code": "pain-drawing"}]
    return item


def nnrr_pre_consultation() -> dict[str, Any]:
    items = [
        _background(),
        _pain_drawing(),
        ODI.group(),
        NDI.group(),
        FABQ.group(),
        HSCL10.group(),
        UHI.group(),
        EQ5D.group(),
        _consent(),
    ]
    return _form("nnrr-pre-consultation", "NNRR - skjema før første konsultasjon", items, "nnrr")


def nnrr_follow_up(months: int) -> dict[str, Any]:
    items = [
        scale_item("gpe", "Hvordan er plagene nå sammenlignet med før behandlingen?", "gpe", code="gpe", required=True),
        scale_item("satisfaction", "Hvor fornøyd er du med behandlingen?", "satisfaction", code="satisfaction"),
        scale_item("pain-rest", "Smerte i hvile siste uke (0-10)", "0-10", code="pain-nrs-rest"),
        scale_item("pain-activity", "Smerte i aktivitet siste uke (0-10)", "0-10", code="pain-nrs-activity"),
        _work_status(),
        _sick_leave_percent(),
        choice_item(
            "treatment-received",
            "Behandling siden konsultasjonen",
            [
                ("physio", "Fysioterapi"),
                ("group", "Gruppebehandling"),
                ("surgery", "Operasjon"),
                ("none", "Ingen"),
                ("other", "Annet"),
            ],
            repeats=True,
        ),
        ODI.group(),
        NDI.group(),
        HSCL10.group(),
        UHI.group(),
        EQ5D.group(),
    ]
    return _form(f"nnrr-follow-up-{months}m", f"NNRR - oppfølging etter {months} måneder", items, "nnrr")


def opr_baseline() -> dict[str, Any]:
    items = [
        EQ5D.group(required=True),
        scale_item("pain-average", "Gjennomsnittlig smerte siste uke (0-10)", "0-10", code="pain-nrs-average"),
        LPFS.group(),
        choice_item(
            "analgesic-types",
            "Smertestillende du bruker",
            [
                ("paracetamol", "Paracetamol"),
                ("nsaid", "Betennelsesdempende"),
                ("opioid", "Opioider"),
                ("gabapentinoid", "Gabapentin/pregabalin"),
                ("other", "Annet"),
                ("none", "Ingen"),
            ],
            repeats=True,
        ),
    ]
    return _form("opr-baseline", "OPR - kartlegging før første time", items, "opr")


def opr_short_baseline() -> dict[str, Any]:
    reason = choice_item("short-reason", "Hvorfor ble det korte skjemaet brukt?", SHORT_BASELINE_REASONS, required=True)
    items = [
        reason,
        EQ5D.group(required=True),
        scale_item("pain-average", "Gjennomsnittlig smerte siste uke (0-10)", "0-10", code="pain-nrs-average"),
    ]
    return _form("opr-short-baseline", "OPR - kort kartlegging", items, "opr")


def opr_follow_up() -> dict[str, Any]:
    items = [
        scale_item(
            "pgic",
            "Hvordan er tilstanden din nå sammenlignet med før behandlingen?",
            "pgic",
            code="pgic",
            required=True,
        ),
        EQ5D.group(required=True),
    ]
    return _form("opr-follow-up", "OPR - oppfølging", items, "opr")


def _yes_no(link: str, text: str, *, required: bool = True) -> dict[str, Any]:
    return choice_item(link, text, [("yes", "Ja"), ("no", "Nei")], required=required)


def _date(link: str, text: str, *, required: bool = False) -> dict[str, Any]:
    return {"linkId": link, "text": text, "type": "date", "required": required}


def _percent(link: str, text: str, when: tuple[str, str]) -> dict[str, Any]:
    item = integer_item(link, text, 0, 100)
    item["enableWhen"] = [
        {"question": when[0], "operator": "=", "answerCoding": {"system": CANONICAL_CS + when[0], "code": when[1]}}
    ]
    return item


DIAGNOSIS_CATEGORIES = [
    ("unspecific", "Uspesifikke smerter"),
    ("radiculopathy", "Radikulopati"),
    ("myelopathy", "Myelopati"),
    ("neoplasm", "Neoplasi"),
    ("fracture-luxation", "Fraktur/luksasjon"),
    ("infection-rheumatological", "Infeksjon/revmatologisk"),
    ("axial-deviation", "Aksefeil (kun rygg)"),
    ("other", "Annet"),
]
IMAGING_FINDINGS = [
    ("normal", "Normal (også normale aldersforandringer)"),
    ("disc-herniation", "Skiveprolaps"),
    ("central-stenosis", "Sentral stenose"),
    ("recess-stenosis", "Recess-stenose"),
    ("spondylolisthesis-isthmic", "Spondylolistese, istmisk"),
    ("spondylolisthesis-degenerative", "Spondylolistese, degenerativ"),
    ("scoliosis", "Skoliose"),
    ("modic-1", "Modic 1"),
    ("modic-2", "Modic 2"),
    ("modic-3", "Modic 3"),
    ("other", "Annet"),
]


def nnrr_clinician() -> dict[str, Any]:
    """The NNRR clinician form (behandlerskjema), N17 in order. A draft needs only the visit date (N14);
    finalising needs every required item (N15) and at least one neck- or back-related diagnosis (N16)."""
    asked = [  # only when treated in specialist care
        choice_item("treatment-form", "Form", [("individual", "Individuell"), ("group", "Gruppe")], repeats=True),
        choice_item(
            "individual-sessions",
            "Individuelle tverrfaglige konsultasjoner",
            [("0", "0"), ("1-3", "1-3"), ("4-10", "4-10"), ("gt10", "Over 10")],
        ),
        choice_item(
            "group-sessions",
            "Tverrfaglige gruppesamlinger",
            [("0", "0"), ("1-3", "1-3"), ("4-6", "4-6"), ("7-10", "7-10"), ("gt10", "Over 10")],
        ),
        choice_item("discipline", "Fagområder", [("mono", "Monofaglig"), ("inter", "Tverrfaglig")]),
        choice_item(
            "treatment-type",
            "Type behandling",
            [
                ("exercise", "Trening"),
                ("education", "Undervisning"),
                ("cognitive", "Kognitiv tilnærming"),
                ("work", "Arbeidsrettet"),
                ("other", "Annet"),
            ],
            repeats=True,
        ),
    ]
    when_treated = {
        "question": "specialist-treatment",
        "operator": "=",
        "answerCoding": {"system": CANONICAL_CS + "specialist-treatment", "code": "yes"},
    }
    treatment = {
        "linkId": "treatment",
        "text": "Behandling i spesialisthelsetjenesten",
        "type": "group",
        "item": [
            _yes_no("specialist-treatment", "Behandling i spesialisthelsetjenesten?"),
            *({**item, "enableWhen": [when_treated]} for item in asked),
        ],
    }
    items = [
        _date("visit-date", "Dato for konsultasjonen", required=True),
        _yes_no("interpreter", "Tolk brukt"),
        _yes_no("helse-i-arbeid", "HelseIArbeid-poliklinikk"),
        _yes_no("study-participant", "Deltar i forsknings- eller behandlingsstudie"),
        choice_item(
            "professions",
            "Yrkesgrupper i vurderingen",
            [
                ("doctor", "Lege"),
                ("physiotherapist", "Fysioterapeut"),
                ("nurse", "Sykepleier"),
                ("psychologist", "Psykolog"),
                ("social-worker", "Sosionom"),
                ("other", "Annet"),
            ],
            repeats=True,
            required=True,
        ),
        _yes_no("previous-surgery", "Tidligere operert i nakke, rygg eller bekken"),
        choice_item(
            "yellow-flags", "Gule flagg som kompliserer forløpet", [("1", "1"), ("2", "2"), ("3", "3")], required=True
        ),
        _yes_no("coping-talk", "Mestringsorientert samtale"),
        _yes_no("lifestyle-advice", "Råd om livsstil og/eller medisinering"),
        _yes_no("work-function-assessed", "Arbeids- eller utdanningsfunksjon vurdert"),
        {
            "linkId": "imaging",
            "text": "Bildediagnostikk",
            "type": "group",
            "item": [
                choice_item(
                    "imaging-modality",
                    "Modalitet",
                    [("none", "Ingen"), ("xray", "Røntgen"), ("ct", "CT"), ("mri", "MR")],
                    repeats=True,
                    required=True,
                ),
                choice_item(
                    "imaging-findings", "Funn (slik bildene er beskrevet, N18)", IMAGING_FINDINGS, repeats=True
                ),
                _yes_no("imaging-reviewed", "Bildene gjennomgått med pasienten", required=False),
                choice_item(
                    "imaging-importance",
                    "Betydning av funnene",
                    [("none", "Ingen"), ("some", "Noe"), ("major", "Stor")],
                ),
            ],
        },
        {
            "linkId": "diagnoses",
            "text": "Diagnoser (minst én nakke- eller ryggrelatert, N16)",
            "type": "group",
            "required": True,
            "repeats": True,
            "item": [
                choice_item(
                    "localisation",
                    "Smertelokalisasjon",
                    [("neck", "Nakke"), ("back", "Rygg"), ("other", "Annet")],
                    required=True,
                ),
                {
                    **choice_item("diagnosis-category", "Kategori", DIAGNOSIS_CATEGORIES, required=True),
                    "answerOption": [
                        {
                            "valueCoding": {
                                "system": "https://ryggrad.no/fhir/CodeSystem/diagnosis-category",
                                "code": code,
                                "display": label,
                            }
                        }
                        for code, label in DIAGNOSIS_CATEGORIES
                    ],
                },
                {
                    "linkId": "icd10",
                    "text": "ICD-10-kode",
                    "type": "string",
                    "required": True,
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/StructureDefinition/regex",
                            "valueString": "[A-Z][0-9]{2}(\\.?[0-9A-Z]{1,4})?",
                        },
                        {"url": VALIDATION_TEXT, "valueString": "Oppgi en ICD-10-kode, for eksempel M54.4"},
                    ],
                },
            ],
        },
        {
            "linkId": "work",
            "text": "Arbeidsstatus",
            "type": "group",
            "item": [
                choice_item(
                    "work-state",
                    "Status",
                    [
                        ("working", "I arbeid"),
                        ("sick-leave", "Sykmeldt"),
                        ("unemployed", "Arbeidsledig"),
                        ("student", "Student"),
                        ("aap", "Arbeidsavklaringspenger"),
                        ("pension", "Alderspensjon/uføretrygd"),
                    ],
                    repeats=True,
                    required=True,
                ),
                _percent("working-percent", "Stillingsprosent", ("work-state", "working")),
                _percent("sick-leave-percent", "Sykmeldingsprosent", ("work-state", "sick-leave")),
                _percent("pension-percent", "Uføregrad", ("work-state", "pension")),
            ],
        },
        choice_item(
            "municipal-treatment",
            "Behandling i kommunehelsetjenesten",
            [
                ("gp", "Fastlege"),
                ("physio", "Fysioterapeut"),
                ("chiro", "Kiropraktor"),
                ("psych", "Psykolog"),
                ("other", "Annet"),
                ("none", "Ingen"),
            ],
            repeats=True,
        ),
        treatment,
    ]
    form = _form("nnrr-clinician", "NNRR - behandlerskjema", items, "nnrr", HEALTH_PROFESSIONAL)
    form["extension"] = [e for e in form["extension"] if "authenticationrequirement" not in e["url"]]  # staff form
    form["extension"] += [
        _constraint(  # the draft opened at booking (N5) has no author yet: the minimum is for what someone writes
            "nnrr-n14",
            "status != 'in-progress' or author.empty() or item.where(linkId='visit-date').answer.exists()",
            "Et utkast må ha dato for konsultasjonen (N14)",
        ),
        _constraint(
            "nnrr-n16",
            "status = 'in-progress' or status = 'entered-in-error' or item.where(linkId='diagnoses').first()"
            ".item.where(linkId='localisation').answer.value.code.first() in ('neck' | 'back')",
            "Den første diagnosen må være nakke- eller ryggrelatert (N16); kan ingen slik diagnose stilles, skal "
            "pasienten ikke registreres",
        ),
    ]
    return form


def _constraint(key: str, expression: str, human: str) -> dict[str, Any]:
    """An SDC questionnaire-constraint: a rule over the whole response that the server checks on every save."""
    return {
        "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/questionnaire-constraint",
        "extension": [
            {"url": "key", "valueId": key},
            {"url": "severity", "valueCode": "error"},
            {"url": "expression", "valueString": expression},
            {"url": "human", "valueString": human},
        ],
    }


def build() -> list[dict[str, Any]]:
    return [
        nnrr_clinician(),
        nnrr_pre_consultation(),
        nnrr_follow_up(6),
        nnrr_follow_up(12),
        opr_baseline(),
        opr_short_baseline(),
        opr_follow_up(),
    ]


def code_systems(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The code systems the forms use, complete: the answer scales and item option lists (by their system), and
    the instrument item codes the scoring workers look for."""
    concepts: dict[str, dict[str, str]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            for coding in item.get("code", []):
                concepts.setdefault(coding["system"], {})[coding["code"]] = coding.get("display") or coding["code"]
            for option in item.get("answerOption", []):
                coding = option.get("valueCoding")
                if coding:
                    concepts.setdefault(coding["system"], {})[coding["code"]] = coding.get("display", coding["code"])
            walk(item.get("item", []))

    for form in forms:
        walk(form["item"])
    out = []
    for system, codes in sorted(concepts.items()):
        if not system.startswith("https://ryggrad.no/fhir/CodeSystem/"):
            continue
        key = system.rsplit("/", 1)[1]
        out.append(
            {
                "resourceType": "CodeSystem",
                "id": key,
                "url": system,
                "version": VERSION,
                "name": key.replace("-", "_"),
                "title": f"Codes of the registry forms: {key}",
                "status": "active",
                "caseSensitive": True,
                "content": "complete",
                "count": len(codes),
                "concept": [{"code": code, "display": display} for code, display in codes.items()],
            }
        )
    return out
