Profile: RegistryPatient
Parent: Patient
Id: registry-patient
Title: "Registry patient"
Description: "A patient of a registry unit, identified by fødselsnummer, D-nummer or felles hjelpenummer (no-basis identifier systems). Helsenorge prefills forms from identifiers and names marked `use: official`."
* obeys ryg-person-id
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Norwegian person identifiers, by system"
* identifier contains FNR 0..1 MS and DNR 0..1 MS and FH 0..1
* identifier[FNR].system = $FNR (exactly)
* identifier[FNR].value 1..1
* identifier[FNR].value obeys ryg-eleven-digits
* identifier[FNR].use = #official
* identifier[DNR].system = $DNR (exactly)
* identifier[DNR].value 1..1
* identifier[DNR].value obeys ryg-eleven-digits
* identifier[DNR].use = #official
* identifier[FH].system = $FH (exactly)
* identifier[FH].value 1..1
* name MS
* birthDate MS
* gender MS

Profile: RegistryOrganization
Parent: Organization
Id: registry-organization
Title: "Registry organisation"
Description: "A registry unit (RESH id) or the legal entity it belongs to (organisasjonsnummer). Users' HelseID tokens name the organisasjonsnummer; the registry counts by RESH id; a unit carries both."
* obeys ryg-unit-id
* identifier 1..* MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains RESH 0..1 MS and ENH 0..1 MS
* identifier[RESH].system = $RESH (exactly)
* identifier[RESH].value 1..1
* identifier[ENH].system = $ENH (exactly)
* identifier[ENH].value 1..1
* identifier[ENH].value obeys ryg-orgnr
* name 1..1 MS
* partOf MS

Profile: RegistryPractitioner
Parent: Practitioner
Id: registry-practitioner
Title: "Registry practitioner"
Description: "A health professional, identified by HPR number."
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains HPR 0..1 MS
* identifier[HPR].system = $HPR (exactly)
* identifier[HPR].value 1..1
* identifier[HPR].value obeys ryg-hpr
* name 1..* MS
