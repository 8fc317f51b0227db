Profile: RegistryAppointment
Parent: Appointment
Id: registry-appointment
Title: "Registry appointment"
Description: "An appointment as the EHR pushes it: the EHR's business identifier (repeated pushes of one appointment are one resource), the planned start, the patient and the clinic among the participants, the referral date and the registry-potential flag that opens an episode."
* obeys ryg-appointment-patient
* extension contains ReferralDate named referralDate 0..1 MS and RegistryPotential named registryPotential 0..* MS
* identifier 1..* MS
* status MS
* start 1..1 MS
* participant 1..* MS
* participant.actor 1..1 MS

Profile: RegistryEpisodeOfCare
Parent: EpisodeOfCare
Id: registry-episode-of-care
Title: "Registry episode of care"
Description: "A forløp: one patient's course at one registry unit, from referral to the end of follow-up. Its managing organisation is the unit that owns the episode and everything recorded in it (N20)."
* extension contains Registry named registry 1..1 MS and ReferralDate named referralDate 0..1 MS and PlannedConsultation named plannedConsultation 0..1 MS and VisitDate named visitDate 0..1 MS and FollowUpExclusion named followUpExclusion 0..* MS
* status MS
* patient MS
* managingOrganization 1..1 MS
* managingOrganization only Reference(RegistryOrganization)
* period MS

Profile: RegistryConsent
Parent: Consent
Id: registry-consent
Title: "Registry consent"
Description: "A patient's consent to take part in a registry (the base provision) and, where given, to research use of the data (a nested provision with purpose research). Withdrawal makes the consent inactive. Given digitally in the portal or on paper."
* extension contains Registry named registry 1..1 MS and ConsentChannel named channel 0..1 MS
* status MS
* scope = $ConsentScope#patient-privacy
* category 1..* MS
* patient 1..1 MS
* patient only Reference(RegistryPatient)
* dateTime 1..1 MS
* provision 1..1 MS
* provision.type 1..1
* provision.provision MS
* provision.provision.purpose MS

Profile: PromTask
Parent: Task
Id: prom-task
Title: "PROM task"
Description: "A patient form sent to a patient (Helsenorge skjemaoppgave): the Questionnaire to fill in, a GUID business identifier, the service-area security label, a due period, the patient as owner, and the episode it belongs to."
* meta.security 1..* MS
* meta.security ^slicing.discriminator.type = #value
* meta.security ^slicing.discriminator.path = "system"
* meta.security ^slicing.rules = #open
* meta.security contains serviceArea 1..1 MS
* meta.security[serviceArea].system = $Tjenesteomraade (exactly)
* meta.security[serviceArea].code 1..1
* extension contains Registry named registry 0..1 MS and Episode named episode 0..1 MS
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains guid 1..1 MS
* identifier[guid].system = $UUID (exactly)
* identifier[guid].value 1..1
* identifier[guid].value obeys ryg-guid
* status MS
* intent = #order
* focus 1..1 MS
* focus only Reference(Questionnaire)
* for 1..1 MS
* for only Reference(RegistryPatient)
* owner 1..1 MS
* owner only Reference(RegistryPatient)
* restriction 1..1 MS
* restriction.period 1..1 MS
* restriction.period.end 1..1 MS
* description MS

Profile: RegistryQuestionnaireResponse
Parent: QuestionnaireResponse
Id: registry-questionnaire-response
Title: "Registry questionnaire response"
Description: "A filled-in registry form: the Questionnaire (canonical with version), the patient, the episode, and who wrote it. A patient's completed form is never changed (N20)."
* extension contains Registry named registry 0..1 MS and Episode named episode 0..1 MS and ResponseChannel named channel 0..1 MS
* questionnaire 1..1 MS
* status MS
* subject 1..1 MS
* subject only Reference(RegistryPatient)
* authored MS
* author MS
* source MS

Profile: RegistryDiagnosis
Parent: Condition
Id: registry-diagnosis
Title: "Registry diagnosis"
Description: "A diagnosis recorded in a registry form: an ICD-10-NO code and, for NNRR, the diagnosis category of the clinician form."
* code 1..1 MS
* code.coding 1..* MS
* code.coding ^slicing.discriminator.type = #value
* code.coding ^slicing.discriminator.path = "system"
* code.coding ^slicing.rules = #open
* code.coding contains icd10no 0..1 MS and category 0..1 MS
* code.coding[icd10no].system = $ICD10NO (exactly)
* code.coding[icd10no].code 1..1
* code.coding[icd10no].code obeys ryg-icd10-shape
* code.coding[category].system = "https://ryggrad.no/fhir/CodeSystem/diagnosis-category" (exactly)
* code.coding[category].code 1..1
* code.coding[category] from DiagnosisCategoryVS (required)
* subject only Reference(RegistryPatient)
* encounter MS

Profile: RegistryReferral
Parent: ServiceRequest
Id: registry-referral
Title: "Registry referral"
Description: "A referral to a registry clinic: received date (authoredOn), the clinic's decision (accepted or rejected, with date), and the referral level (local, regional or national) that the OPR tables count."
* obeys ryg-decision-date
* extension contains ReferralLevel named level 0..1 MS and ReferralDecision named decision 0..1 MS
* status MS
* intent = #order
* subject only Reference(RegistryPatient)
* authoredOn 1..1 MS
* performer MS

Profile: RegistryScore
Parent: Observation
Id: registry-score
Title: "Registry score"
Description: "A score the registry derived from a patient's answers (ODI, NDI, HSCL-10, FABQ, UHI, EQ-5D-5L, pain NRS, global effect, satisfaction): computed by the scoring worker from one QuestionnaireResponse, for the patient and episode of that response. Recomputed when the response changes; withdrawn (entered-in-error) when it no longer holds."
* extension contains Registry named registry 0..1 MS and Episode named episode 0..1 MS
* identifier 1..1 MS
* status MS
* category 1..* MS
* code MS
* subject 1..1 MS
* subject only Reference(RegistryPatient)
* effective[x] only dateTime
* effectiveDateTime 1..1 MS
* value[x] only Quantity or string
* value[x] MS
* interpretation MS
* method MS
* derivedFrom 1..1 MS
* derivedFrom only Reference(RegistryQuestionnaireResponse)

Profile: RegistryDataRelease
Parent: ResearchStudy
Id: registry-data-release
Title: "Registry data release"
Description: "A release of registry data for research (P10): the research question (objective.name), the approval (identifier: the release decision), the period it runs, the registry it draws on, the flat datasets it includes, how dates are shown, and the researchers' organisation (sponsor). Researchers' tokens name it; while it is approved (status approved or active) and within its period they see the registry's data de-identified, for the patients whose consent covers research (or under the registry's exemption)."
* extension contains Registry named registry 1..1 MS and ReleaseDateHandling named dateHandling 0..1 MS and ReleasedView named view 0..* MS
* identifier 1..* MS
* title 1..1 MS
* status MS
* objective 1..* MS
* objective.name 1..1 MS
* period 1..1 MS
* period.start 1..1
* period.end 1..1
* sponsor 1..1 MS
* sponsor only Reference(Organization)
