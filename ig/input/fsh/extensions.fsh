Extension: ReferralDate
Id: referral-date
Title: "Referral date"
Description: "The date the referral that led here was received (henvisningsdato)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/referral-date"
* ^context[+].type = #element
* ^context[=].expression = "Appointment"
* ^context[+].type = #element
* ^context[=].expression = "EpisodeOfCare"
* value[x] only date
* value[x] 1..1

Extension: RegistryPotential
Id: registry-potential
Title: "Registry potential"
Description: "The EHR's flag that the appointment's patient may belong in a registry (for NNRR: an NNRR-potential referral). It names the registry; an appointment without it opens no episode."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/registry-potential"
* ^context[+].type = #element
* ^context[=].expression = "Appointment"
* value[x] only Coding
* value[x] 1..1
* value[x] from RegistryVS (required)

Extension: Registry
Id: registry
Title: "Registry"
Description: "The quality registry a resource belongs to."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/registry"
* ^context[+].type = #element
* ^context[=].expression = "EpisodeOfCare"
* ^context[+].type = #element
* ^context[=].expression = "Consent"
* ^context[+].type = #element
* ^context[=].expression = "Task"
* ^context[+].type = #element
* ^context[=].expression = "PlanDefinition"
* ^context[+].type = #element
* ^context[=].expression = "QuestionnaireResponse"
* ^context[+].type = #element
* ^context[=].expression = "ResearchStudy"
* value[x] only Coding
* value[x] 1..1
* value[x] from RegistryVS (required)

Extension: PlannedConsultation
Id: planned-consultation
Title: "Planned consultation"
Description: "When the first consultation of an episode is planned (N5): the start of the appointment that opened it, kept up to date while the episode stands."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/planned-consultation"
* ^context[+].type = #element
* ^context[=].expression = "EpisodeOfCare"
* value[x] only dateTime
* value[x] 1..1

Extension: VisitDate
Id: visit-date
Title: "Visit date"
Description: "The date of the first consultation of an episode; follow-ups are counted from it (N21)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/visit-date"
* ^context[+].type = #element
* ^context[=].expression = "EpisodeOfCare"
* value[x] only date
* value[x] 1..1

Extension: ConsentChannel
Id: consent-channel
Title: "Consent channel"
Description: "Whether the consent was given digitally or on paper."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/consent-channel"
* ^context[+].type = #element
* ^context[=].expression = "Consent"
* value[x] only Coding
* value[x] 1..1
* value[x] from ConsentChannelVS (required)

Extension: ReferralLevel
Id: referral-level
Title: "Referral level"
Description: "Local, regional or national referral (the OPR tables count these)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/referral-level"
* ^context[+].type = #element
* ^context[=].expression = "ServiceRequest"
* value[x] only Coding
* value[x] 1..1
* value[x] from ReferralLevelVS (required)

Extension: ReferralDecision
Id: referral-decision
Title: "Referral decision"
Description: "The clinic's decision on the referral and its date."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/referral-decision"
* ^context[+].type = #element
* ^context[=].expression = "ServiceRequest"
* extension contains
    decision 1..1 and
    date 1..1
* extension[decision].value[x] only Coding
* extension[decision].value[x] from ReferralDecisionVS (required)
* extension[date].value[x] only date

Extension: Episode
Id: episode
Title: "Episode"
Description: "The episode of care (forløp) a task, a response or a procedure belongs to."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/episode"
* ^context[+].type = #element
* ^context[=].expression = "Procedure"
* ^context[+].type = #element
* ^context[=].expression = "Task"
* ^context[+].type = #element
* ^context[=].expression = "QuestionnaireResponse"
* value[x] only Reference(EpisodeOfCare)
* value[x] 1..1

Extension: TargetLevel
Id: target-level
Title: "Target level"
Description: "The share of patients an indicator's unit should reach (e.g. 0.30 for 30 %), the registry's high goal."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/target-level"
* ^context[+].type = #element
* ^context[=].expression = "Measure"
* value[x] only decimal
* value[x] 1..1

Extension: MinimumLevel
Id: minimum-level
Title: "Minimum level"
Description: "The share below which a unit's result is marked as low (e.g. 0.25 for 25 %)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/minimum-level"
* ^context[+].type = #element
* ^context[=].expression = "Measure"
* value[x] only decimal
* value[x] 1..1

Extension: ScoreInterval
Id: score-interval
Title: "Score interval"
Description: "The 95 % confidence interval (Wilson) of a proportion score."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/score-interval"
* ^context[+].type = #element
* ^context[=].expression = "MeasureReport.group"
* value[x] only Range
* value[x] 1..1

Extension: Suppressed
Id: suppressed
Title: "Suppressed"
Description: "The score is withheld because the denominator is below the registry's minimum (N < 30): the counts are kept, the score is not shown."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/suppressed"
* ^context[+].type = #element
* ^context[=].expression = "MeasureReport.group"
* value[x] only boolean
* value[x] 1..1

Extension: LowCoverage
Id: low-coverage
Title: "Low coverage"
Description: "The unit's coverage (dekningsgrad) in the period is below 60 %: its results are flagged."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/low-coverage"
* ^context[+].type = #element
* ^context[=].expression = "MeasureReport"
* value[x] only boolean
* value[x] 1..1

Extension: ImplantDate
Id: implant-date
Title: "Implant date"
Description: "When the device was implanted."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/implant-date"
* ^context[+].type = #element
* ^context[=].expression = "Device"
* value[x] only date
* value[x] 1..1

Extension: ExplantDate
Id: explant-date
Title: "Explant date"
Description: "When the device was removed."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/explant-date"
* ^context[+].type = #element
* ^context[=].expression = "Device"
* value[x] only date
* value[x] 1..1

Extension: RegistryTimepoint
Id: registry-timepoint
Title: "Registry time point"
Description: "When a registry form is due: counted from an anchor (the appointment's start, the booking, the visit date, a procedure, the episode's start or end) by a signed offset (negative: before the anchor), repeating at an interval where given; and, for a form before a consultation, one reminder at an offset from the appointment's start (P1: 7 days before) if it is still unanswered."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/registry-timepoint"
* ^context[+].type = #element
* ^context[=].expression = "PlanDefinition.action"
* extension contains anchor 1..1 and offset 1..1 and repeat 0..1 and reminder 0..1
* extension[anchor].value[x] only code
* extension[anchor].value[x] from RegistryTimepointAnchorVS (required)
* extension[offset].value[x] only Duration
* extension[repeat].value[x] only Duration
* extension[reminder].value[x] only Duration

Extension: RegistryConsentRule
Id: registry-consent-rule
Title: "Registry consent rule"
Description: "Whether a registry needs the patient's consent before a form is accepted (NNRR, N2) or runs on a consent exemption (OPR, P7)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/registry-consent-rule"
* ^context[+].type = #element
* ^context[=].expression = "PlanDefinition"
* value[x] only code
* value[x] 1..1
* value[x] from RegistryConsentRuleVS (required)

Extension: FollowUpExclusion
Id: follow-up-exclusion
Title: "Follow-up exclusion"
Description: "Why the patient of an episode gets no follow-up forms (OPR, P4): cognitive impairment, an interpreter needed, or taking part in a research project. A follow-up that falls due is recorded as excluded, with the reason, so that response rates leave it out."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/follow-up-exclusion"
* ^context[+].type = #element
* ^context[=].expression = "EpisodeOfCare"
* value[x] only Coding
* value[x] 1..1
* value[x] from FollowUpExclusionVS (required)

Extension: ReminderAt
Id: reminder-at
Title: "Reminder at"
Description: "When a form still unanswered is to be reminded of (P1); the scheduler raises the Task's priority then, and the dispatch channels send the reminder once."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/reminder-at"
* ^context[+].type = #element
* ^context[=].expression = "Task"
* value[x] only dateTime
* value[x] 1..1

Extension: ResponseChannel
Id: response-channel
Title: "How a response was given"
Description: "Whether the patient answered in the portal, on a clinic tablet with a one-time code (N8), or on paper keyed in by staff on the patient's behalf (N4)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/response-channel"
* ^context[+].type = #element
* ^context[=].expression = "QuestionnaireResponse"
* value[x] only Coding
* value[x] 1..1
* value[x] from ResponseChannelVS (required)

Extension: AttributionOffset
Id: attribution-offset
Title: "Attribution offset"
Description: "Which period an episode counts in for an indicator: the period of its visit date moved by this duration (follow-up indicators: 6 months, so that they are attributed to the year of visit date + 6 months)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/attribution-offset"
* ^context[+].type = #element
* ^context[=].expression = "Measure"
* value[x] only Duration
* value[x] 1..1

Extension: EnteredDenominator
Id: entered-denominator
Title: "Entered denominator"
Description: "The indicator's denominator may be entered by each unit for a period (a data-collection MeasureReport of the Measure with the unit as reporter and the period): an entered count wins over the one counted from the registry's data (NNRR coverage, N23)."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/entered-denominator"
* ^context[+].type = #element
* ^context[=].expression = "Measure"
* value[x] only boolean
* value[x] 1..1

Extension: ReleaseDateHandling
Id: release-date-handling
Title: "Release date handling"
Description: "How a data release shows dates: shifted by a per-study, per-patient offset (the default), or kept as they are where the approval allows exact dates."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/release-date-handling"
* ^context[+].type = #element
* ^context[=].expression = "ResearchStudy"
* value[x] only code
* value[x] 1..1
* value[x] from ReleaseDateHandlingVS (required)

Extension: ReleasedView
Id: released-view
Title: "Released view"
Description: "A flat dataset a data release includes: the canonical URL of a ViewDefinition in mappings/views/."
* ^url = "https://ryggrad.no/fhir/StructureDefinition/released-view"
* ^context[+].type = #element
* ^context[=].expression = "ResearchStudy"
* value[x] only canonical
* value[x] 1..1
