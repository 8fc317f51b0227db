// Valid examples, one or more per profile. Invalid ones are authored JSON in ig/examples/invalid/.
// Person numbers are synthetic (month + 80); organisation numbers and RESH ids are made up.

Instance: example-unit
InstanceOf: RegistryOrganization
Usage: #example
Title: "A registry unit"
* identifier[RESH].value = "4001234"
* identifier[ENH].value = "974589095"
* name = "Nakke- og ryggpoliklinikken"

Instance: example-patient
InstanceOf: RegistryPatient
Usage: #example
Title: "A registry patient"
* identifier[FNR].value = "17858028973"
* identifier[FNR].use = #official
* name.use = #official
* name.family = "Nordmann"
* name.given = "Kari"
* gender = #female
* birthDate = "1980-05-17"

Instance: example-practitioner
InstanceOf: RegistryPractitioner
Usage: #example
Title: "A practitioner"
* identifier[HPR].value = "565501872"
* name.family = "Lege"
* name.given = "Lise"

Instance: example-appointment
InstanceOf: RegistryAppointment
Usage: #example
Title: "An NNRR-potential appointment"
* extension[referralDate].valueDate = "2026-01-05"
* extension[registryPotential].valueCoding = RegistryCS#nnrr
* identifier.system = "urn:oid:2.16.578.1.12.4.1.2.1234.9"
* identifier.value = "A-100234"
* status = #booked
* start = "2026-02-10T09:00:00+01:00"
* end = "2026-02-10T10:00:00+01:00"
* participant[+].actor = Reference(example-patient)
* participant[=].status = #accepted
* participant[+].actor = Reference(example-practitioner)
* participant[=].status = #accepted

Instance: example-episode
InstanceOf: RegistryEpisodeOfCare
Usage: #example
Title: "An NNRR episode"
* extension[registry].valueCoding = RegistryCS#nnrr
* extension[referralDate].valueDate = "2026-01-05"
* extension[visitDate].valueDate = "2026-02-10"
* status = #active
* patient = Reference(example-patient)
* managingOrganization = Reference(example-unit)
* period.start = "2026-01-05"

Instance: example-consent
InstanceOf: RegistryConsent
Usage: #example
Title: "Consent to NNRR with research use"
* extension[registry].valueCoding = RegistryCS#nnrr
* extension[channel].valueCoding = ConsentChannelCS#digital
* status = #active
* category = http://loinc.org#59284-0 "Patient Consent"
* patient = Reference(example-patient)
* dateTime = "2026-01-20T10:15:00+01:00"
* policy.uri = "https://ryggrad.no/fhir/policy/nnrr-participation"
* provision.type = #permit
* provision.provision.type = #permit
* provision.provision.purpose = $ActReason#HRESCH "healthcare research"

Instance: example-prom-task
InstanceOf: PromTask
Usage: #example
Title: "The pre-consultation form, sent"
* meta.security[serviceArea].code = #3
* extension[registry].valueCoding = RegistryCS#nnrr
* extension[episode].valueReference = Reference(example-episode)
* identifier[guid].value = "urn:uuid:6a1f3c52-0d7e-4b8e-9a55-2f1c7d9e4b10"
* status = #ready
* intent = #order
* priority = #routine
* description = "Skjema før første konsultasjon"
* focus = Reference(Questionnaire/nnrr-pre-consultation)
* for = Reference(example-patient)
* owner = Reference(example-patient)
* authoredOn = "2026-01-25T09:00:00+01:00"
* restriction.period.start = "2026-01-25T09:00:00+01:00"
* restriction.period.end = "2026-02-10T09:00:00+01:00"

Instance: example-response
InstanceOf: RegistryQuestionnaireResponse
Usage: #example
Title: "A draft response"
* extension[episode].valueReference = Reference(example-episode)
* questionnaire = "https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation|1.0.0"
* status = #in-progress
* subject = Reference(example-patient)
* author = Reference(example-patient)
* authored = "2026-02-01T18:30:00+01:00"

Instance: example-diagnosis
InstanceOf: RegistryDiagnosis
Usage: #example
Title: "Lumbago with sciatica, radiculopathy"
* clinicalStatus = http://terminology.hl7.org/CodeSystem/condition-clinical#active
* code.coding[icd10no] = $ICD10NO#M54.4 "Lumbago med isjias"
* code.coding[category] = DiagnosisCategoryCS#radiculopathy
* subject = Reference(example-patient)

Instance: example-referral
InstanceOf: RegistryReferral
Usage: #example
Title: "An accepted regional referral"
* extension[level].valueCoding = ReferralLevelCS#regional
* extension[decision].extension[decision].valueCoding = ReferralDecisionCS#accepted
* extension[decision].extension[date].valueDate = "2026-01-08"
* status = #active
* intent = #order
* subject = Reference(example-patient)
* authoredOn = "2026-01-05"
* performer = Reference(example-unit)

Instance: example-indicator
InstanceOf: RegistryMeasure
Usage: #example
Title: "An example indicator: back to work at 6 months"
* extension[registry].valueCoding = RegistryCS#nnrr
* extension[target].valueDecimal = 0.30
* extension[minimum].valueDecimal = 0.25
* url = "https://ryggrad.no/fhir/Measure/example-indicator"
* version = "1.0.0"
* name = "ExampleIndicator"
* title = "Tilbake i arbeid etter 6 måneder (eksempel)"
* status = #draft
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* improvementNotation = http://terminology.hl7.org/CodeSystem/measure-improvement-notation#increase
* group.population[+].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group.population[=].criteria.language = #text/plain
* group.population[=].criteria.expression = "Employed and on sick leave at baseline, with a 6-month form"
* group.population[+].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group.population[=].criteria.language = #text/plain
* group.population[=].criteria.expression = "Working, not on sick leave at 6 months"

Instance: example-indicator-result
InstanceOf: RegistryMeasureReport
Usage: #example
Title: "A unit's result for the example indicator"
* extension[lowCoverage].valueBoolean = false
* status = #complete
* type = #summary
* measure = "https://ryggrad.no/fhir/Measure/example-indicator|1.0.0"
* date = "2026-04-01"
* period.start = "2025-01-01"
* period.end = "2025-12-31"
* reporter = Reference(example-unit)
* group.extension[interval].valueRange.low.value = 0.28
* group.extension[interval].valueRange.high.value = 0.48
* group.extension[suppressed].valueBoolean = false
* group.population[+].code = http://terminology.hl7.org/CodeSystem/measure-population#denominator
* group.population[=].count = 80
* group.population[+].code = http://terminology.hl7.org/CodeSystem/measure-population#numerator
* group.population[=].count = 30
* group.measureScore.value = 0.375

Instance: example-procedure
InstanceOf: RegistryProcedure
Usage: #example
Title: "A spinal cord stimulator implantation"
* extension[episode].valueReference = Reference(example-episode)
* status = #completed
* category = TreatmentKindCS#scs
* code.coding[ncmp] = $NKPK#EX001 "Illustrative code, not from the code list"
* subject = Reference(example-patient)
* performedDateTime = "2026-03-02"

Instance: example-device
InstanceOf: ImplantedDevice
Usage: #example
Title: "An implanted stimulator"
* extension[implantDate].valueDate = "2026-03-02"
* type = ImplantKindCS#scs-generator
* serialNumber = "SN-0001234"
* patient = Reference(example-patient)

Instance: example-data-release
InstanceOf: RegistryDataRelease
Usage: #example
Title: "A data release of NNRR's pre-consultation data"
* extension[registry].valueCoding = RegistryCS#nnrr
* extension[dateHandling].valueCode = ReleaseDateHandlingCS#shift
* extension[view].valueCanonical = "https://ryggrad.no/fhir/ViewDefinition/form_nnrr_pre_consultation"
* identifier.system = "https://ryggrad.no/fhir/sid/release-decision"
* identifier.value = "2026-017"
* title = "Pain duration and disability before a first consultation"
* status = #active
* objective.name = "Does the duration of pain before referral predict disability at the first consultation?"
* period.start = "2026-01-01"
* period.end = "2027-12-31"
* sponsor = Reference(example-unit)
