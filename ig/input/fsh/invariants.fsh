Invariant: ryg-person-id
Description: "A registry patient is identified by a fødselsnummer, a D-nummer or a felles hjelpenummer."
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.1' or system = 'urn:oid:2.16.578.1.12.4.1.4.2' or system = 'urn:oid:2.16.578.1.12.4.1.4.3').exists()"
Severity: #error

Invariant: ryg-eleven-digits
Description: "A fødselsnummer or D-nummer is 11 digits."
Expression: "matches('^[0-9]{11}$')"
Severity: #error

Invariant: ryg-unit-id
Description: "A registry organisation has a RESH id or an organisasjonsnummer."
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.102' or system = 'urn:oid:2.16.578.1.12.4.1.4.101').exists()"
Severity: #error

Invariant: ryg-orgnr
Description: "An organisasjonsnummer is 9 digits."
Expression: "matches('^[0-9]{9}$')"
Severity: #error

Invariant: ryg-hpr
Description: "An HPR number is 4 to 9 digits without a leading zero."
Expression: "matches('^[1-9][0-9]{3,8}$')"
Severity: #error

Invariant: ryg-appointment-patient
Description: "An appointment names its patient among the participants."
Expression: "participant.actor.where(reference.startsWith('Patient/') or type = 'Patient').exists()"
Severity: #error

Invariant: ryg-guid
Description: "A Helsenorge task identifier is a GUID as a URN (urn:uuid:…)."
Expression: "matches('^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')"
Severity: #error

Invariant: ryg-decision-date
Description: "A referral decision has a date."
Expression: "extension('https://ryggrad.no/fhir/StructureDefinition/referral-decision').all(extension('date').exists())"
Severity: #error

Invariant: ryg-icd10-shape
Description: "An ICD-10 code is a letter and two digits, optionally followed (with or without a dot) by up to four more characters."
Expression: "matches('^[A-Z][0-9]{2}(\\\\.?[0-9A-Z]{1,4})?$')"
Severity: #error

Invariant: ryg-device-identified
Description: "An implanted device is identified by its serial number or its UDI."
Expression: "serialNumber.exists() or udiCarrier.exists()"
Severity: #error

Invariant: ryg-explant-after-implant
Description: "A device is removed no earlier than it was implanted."
Expression: "extension('https://ryggrad.no/fhir/StructureDefinition/explant-date').value.all($this >= %resource.extension('https://ryggrad.no/fhir/StructureDefinition/implant-date').value)"
Severity: #error
