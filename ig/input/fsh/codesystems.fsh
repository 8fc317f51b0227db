CodeSystem: RegistryCS
Id: registry
Title: "Quality registries"
Description: "The quality registries this server serves. A registry is configured by data (its Questionnaires, time points, consent rule and exclusions); this code names it."
* ^url = "https://ryggrad.no/fhir/CodeSystem/registry"
* ^caseSensitive = true
* #nnrr "Norwegian neck and back registry" "Nasjonalt register for nakke- og ryggkirurgi og -behandling: interdisciplinary neck and back clinics."
* #opr "Oslo pain registry" "The pain clinic registry of Oslo university hospital."

CodeSystem: OwnerCS
Id: owner
Title: "Owning unit"
Description: "Security labels naming the unit that owns a resource (rule N20): the code is the unit's organisasjonsnummer. The server stamps them; see the server's ownership rules."
* ^url = "https://ryggrad.no/fhir/CodeSystem/owner"
* ^caseSensitive = true
* ^content = #not-present

CodeSystem: DiagnosisCategoryCS
Id: diagnosis-category
Title: "NNRR diagnosis categories"
Description: "The diagnosis categories of the NNRR clinician form (registry rules N17), for the neck and for the back."
* ^url = "https://ryggrad.no/fhir/CodeSystem/diagnosis-category"
* ^caseSensitive = true
* #unspecific "Unspecific pain" "Unspecific neck or back pain."
* #radiculopathy "Radiculopathy"
* #myelopathy "Myelopathy"
* #neoplasm "Neoplasm"
* #fracture-luxation "Fracture or luxation"
* #infection-rheumatological "Infection or rheumatological disease"
* #axial-deviation "Axial deviation" "Back only: scoliosis and other axial deviations."
* #other "Other"

CodeSystem: ReferralLevelCS
Id: referral-level
Title: "Referral level"
Description: "Where a referral was sent from, as the OPR tables count referrals."
* ^url = "https://ryggrad.no/fhir/CodeSystem/referral-level"
* ^caseSensitive = true
* #local "Local" "From the hospital's own catchment area."
* #regional "Regional" "From the health region."
* #national "National" "From outside the health region."

CodeSystem: ReferralDecisionCS
Id: referral-decision
Title: "Referral decision"
Description: "The clinic's assessment of a referral."
* ^url = "https://ryggrad.no/fhir/CodeSystem/referral-decision"
* ^caseSensitive = true
* #accepted "Accepted"
* #rejected "Rejected"

CodeSystem: ConsentChannelCS
Id: consent-channel
Title: "Consent channel"
Description: "How a patient gave (or withdrew) consent."
* ^url = "https://ryggrad.no/fhir/CodeSystem/consent-channel"
* ^caseSensitive = true
* #digital "Digital" "In the patient portal, signed in with ID-porten."
* #paper "Paper" "On a paper form, keyed in by staff on the patient's behalf."

CodeSystem: TreatmentKindCS
Id: treatment-kind
Title: "Pain treatment kind"
Description: "The interventional treatments OPR follows up (P3): radiofrequency treatment and spinal cord stimulation."
* ^url = "https://ryggrad.no/fhir/CodeSystem/treatment-kind"
* ^caseSensitive = true
* #rf "Radiofrequency treatment"
* #scs "Spinal cord stimulation"
* #other "Other interventional treatment"

CodeSystem: ImplantKindCS
Id: implant-kind
Title: "Implant kind"
Description: "The implanted devices OPR tracks."
* ^url = "https://ryggrad.no/fhir/CodeSystem/implant-kind"
* ^caseSensitive = true
* #scs-generator "Spinal cord stimulator (pulse generator)"
* #scs-lead "Spinal cord stimulator lead"
* #other "Other implant"

CodeSystem: RegistryTimepointCS
Id: registry-timepoint
Title: "Registry time points"
Description: "Kinds of registry forms by when they are sent, and the anchors their due times are counted from."
* ^url = "https://ryggrad.no/fhir/CodeSystem/registry-timepoint"
* ^caseSensitive = true
* #baseline "Baseline" "The form before the first consultation."
* #follow-up "Follow-up" "A form after treatment."
* #clinician "Clinician form" "The clinician's registration form (behandlerskjema): a draft from booking (N5), finalised at or after the consultation."
* #appointment-start "Appointment start" "The planned start of the appointment that opened the episode."
* #booking "Booking" "When the appointment was first registered."
* #visit-date "Visit date" "The date of the first consultation (the episode's visit date)."
* #procedure-date "Procedure date" "The date of an RF or SCS procedure in the episode."
* #episode-start "Episode start" "The start of the episode."
* #episode-end "Episode end" "The end of the episode (status finished)."

CodeSystem: RegistryConsentRuleCS
Id: registry-consent-rule
Title: "Registry consent rules"
Description: "Whether a registry needs consent before it accepts a patient's form."
* ^url = "https://ryggrad.no/fhir/CodeSystem/registry-consent-rule"
* ^caseSensitive = true
* #required "Consent required" "The patient must consent before a form is submitted (NNRR, N2)."
* #exempt "Consent exemption" "The registry runs on a consent exemption (OPR, P7)."

CodeSystem: RegistryExclusionCS
Id: registry-exclusion
Title: "Why a registry form is not sent"
Description: "Reasons a form that fell due was not sent (recorded on its Task, so response rates can leave it out): the registry's exclusions (P4) and the patient's reservation (R4)."
* ^url = "https://ryggrad.no/fhir/CodeSystem/registry-exclusion"
* ^caseSensitive = true
* #under-18 "Under 18" "The patient is under 18 on the due date."
* #cognitive-impairment "Cognitive impairment"
* #interpreter "Interpreter needed"
* #research "Research participant" "The patient takes part in a research project."
* #reservation "Reservation" "The patient has opted out of further questionnaires (R4)."

CodeSystem: DispatchChannelCS
Id: dispatch-channel
Title: "How a registry form reaches the patient"
Description: "The channel a form or reminder went out through (a Communication's category, one per sending)."
* ^url = "https://ryggrad.no/fhir/CodeSystem/dispatch-channel"
* ^caseSensitive = true
* #helsenorge "Helsenorge" "The Task to the national portal's task endpoint (the patient's digital mailbox)."
* #email "E-mail" "A link to the portal by e-mail, with no health data in the message."
* #on-site "On site" "Handed over at the clinic with a one-time code for a tablet (N8); nothing is sent."

CodeSystem: DispatchKindCS
Id: dispatch-kind
Title: "What a sending was"
Description: "Whether a Communication sent the form itself or a reminder of it (P1)."
* ^url = "https://ryggrad.no/fhir/CodeSystem/dispatch-kind"
* ^caseSensitive = true
* #form "Form" "The form, when it fell due (or at once, N7)."
* #reminder "Reminder" "A reminder of a form still unanswered (P1)."

CodeSystem: PatientRequestCS
Id: patient-request
Title: "What a patient asks of the registry"
Description: "Requests under the patients' rights, as the code of the Task that carries them to staff."
* ^url = "https://ryggrad.no/fhir/CodeSystem/patient-request"
* ^caseSensitive = true
* #correction "Correction" "Correct data the registry holds about the patient (R2)."
* #erasure "Erasure" "Erase the patient's registry data (R3), e.g. after consent is withdrawn."

CodeSystem: ResponseChannelCS
Id: response-channel
Title: "How a response was given"
Description: "The channel of a patient's answers to a registry form."
* ^url = "https://ryggrad.no/fhir/CodeSystem/response-channel"
* ^caseSensitive = true
* #digital "Digital" "In the patient portal, signed in."
* #on-site "On site" "On a clinic tablet opened with a one-time code (N8)."
* #paper "Paper" "On a paper form, keyed in by staff on the patient's behalf (N4)."

CodeSystem: ScoreCS
Id: score
Title: "Registry scores"
Description: "The scores the registry derives from a patient's answers, where LOINC and SNOMED CT have no code of their own. Each is stored as an Observation derived from the QuestionnaireResponse it was computed from."
* ^url = "https://ryggrad.no/fhir/CodeSystem/score"
* ^caseSensitive = true
* #odi-percent "ODI score (%)" "Oswestry Disability Index: 100 × the sum of the answered sections (0–5 each) ÷ (5 × the sections answered)."
* #ndi-raw "NDI raw score" "Neck Disability Index: the sum of the answered items (0–5 each), 0–50."
* #ndi-percent "NDI score (%)" "Neck Disability Index: 100 × the sum of the answered items ÷ (5 × the items answered)."
* #hscl10-mean "HSCL-10 mean score" "Hopkins Symptom Checklist, 10 items (1–4): the mean of the answered items; a case from 1.85."
* #fabq-physical "FABQ physical activity" "Fear-Avoidance Beliefs Questionnaire, physical activity subscale: items 1–4 (0–6 each), 0–24."
* #fabq-work "FABQ work" "Fear-Avoidance Beliefs Questionnaire, work subscale: items 5–11 (0–6 each), 0–42."
* #uhi-complaints "UHI complaint count" "Subjective health complaints: the items answered 2 or 3, items 5–7 not counted; positive from 3."
* #eq5d-profile "EQ-5D-5L profile" "The five-digit health state (mobility, self-care, usual activities, pain/discomfort, anxiety/depression; 1–5 each)."
* #eq5d-index "EQ-5D-5L index" "The health state valued by a country's value set (1 = full health; below 0 = worse than dead); the value set is named in the Observation's method."
* #eq5d-vas "EQ VAS" "The patient's rating of their health today, 0 (worst) to 100 (best)."
* #pain-nrs-rest "Pain at rest (NRS)" "Pain at rest on a 0–10 numeric rating scale."
* #pain-nrs-activity "Pain in activity (NRS)" "Pain in activity on a 0–10 numeric rating scale."
* #pain-nrs-average "Average pain (NRS)" "Average pain on a 0–10 numeric rating scale."
* #gpe "Global perceived effect" "The patient's rating of the change since treatment, 1 (completely well) to 7 (worse than ever)."
* #satisfaction "Satisfaction with treatment" "1 (satisfied) to 5 (dissatisfied)."
* #pgic "Patient's global impression of change" "1 (very much better) to 7 (very much worse)."

CodeSystem: ReleaseDateHandlingCS
Id: release-date-handling
Title: "Release date handling"
Description: "How a data release shows dates."
* ^url = "https://ryggrad.no/fhir/CodeSystem/release-date-handling"
* ^caseSensitive = true
* #shift "Shifted" "Every date moved by the patient's offset for the study (intervals kept); birth dates as the year."
* #keep "Kept" "Dates as recorded (birth dates still as the year), where the approval allows it."
