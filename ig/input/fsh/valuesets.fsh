ValueSet: RegistryVS
Id: registry
Title: "Quality registries"
Description: "The registries this server serves."
* ^url = "https://ryggrad.no/fhir/ValueSet/registry"
* include codes from system RegistryCS

ValueSet: DiagnosisCategoryVS
Id: diagnosis-category
Title: "NNRR diagnosis categories"
Description: "The NNRR clinician form's diagnosis categories."
* ^url = "https://ryggrad.no/fhir/ValueSet/diagnosis-category"
* include codes from system DiagnosisCategoryCS

ValueSet: ReferralLevelVS
Id: referral-level
Title: "Referral level"
Description: "Local, regional or national referral."
* ^url = "https://ryggrad.no/fhir/ValueSet/referral-level"
* include codes from system ReferralLevelCS

ValueSet: ReferralDecisionVS
Id: referral-decision
Title: "Referral decision"
Description: "Accepted or rejected."
* ^url = "https://ryggrad.no/fhir/ValueSet/referral-decision"
* include codes from system ReferralDecisionCS

ValueSet: ConsentChannelVS
Id: consent-channel
Title: "Consent channel"
Description: "Digital or paper."
* ^url = "https://ryggrad.no/fhir/ValueSet/consent-channel"
* include codes from system ConsentChannelCS

ValueSet: TreatmentKindVS
Id: treatment-kind
Title: "Pain treatment kind"
Description: "RF, SCS or other."
* ^url = "https://ryggrad.no/fhir/ValueSet/treatment-kind"
* include codes from system TreatmentKindCS

ValueSet: ImplantKindVS
Id: implant-kind
Title: "Implant kind"
Description: "Stimulator generator, lead, or other."
* ^url = "https://ryggrad.no/fhir/ValueSet/implant-kind"
* include codes from system ImplantKindCS

ValueSet: RegistryTimepointAnchorVS
Id: registry-timepoint-anchor
Title: "Registry time point anchors"
Description: "What a registry form's due time is counted from."
* ^url = "https://ryggrad.no/fhir/ValueSet/registry-timepoint-anchor"
* RegistryTimepointCS#appointment-start
* RegistryTimepointCS#booking
* RegistryTimepointCS#visit-date
* RegistryTimepointCS#procedure-date
* RegistryTimepointCS#episode-start
* RegistryTimepointCS#episode-end

ValueSet: RegistryConsentRuleVS
Id: registry-consent-rule
Title: "Registry consent rules"
Description: "Whether a registry needs consent."
* ^url = "https://ryggrad.no/fhir/ValueSet/registry-consent-rule"
* include codes from system RegistryConsentRuleCS

ValueSet: FollowUpExclusionVS
Id: follow-up-exclusion
Title: "Follow-up exclusions"
Description: "What a clinician records on an episode to stop its follow-ups (P4)."
* ^url = "https://ryggrad.no/fhir/ValueSet/follow-up-exclusion"
* RegistryExclusionCS#cognitive-impairment
* RegistryExclusionCS#interpreter
* RegistryExclusionCS#research

ValueSet: ResponseChannelVS
Id: response-channel
Title: "How a response was given"
Description: "Digital, on site or paper."
* ^url = "https://ryggrad.no/fhir/ValueSet/response-channel"
* include codes from system ResponseChannelCS

ValueSet: ReleaseDateHandlingVS
Id: release-date-handling
Title: "Release date handling"
Description: "How a data release shows dates."
* ^url = "https://ryggrad.no/fhir/ValueSet/release-date-handling"
* include codes from system ReleaseDateHandlingCS
