// Identifier systems and code systems of Norwegian health care (../shared/spec/norway.md, HL7 Norway no-basis)
Alias: $FNR = urn:oid:2.16.578.1.12.4.1.4.1
Alias: $DNR = urn:oid:2.16.578.1.12.4.1.4.2
Alias: $FH = urn:oid:2.16.578.1.12.4.1.4.3
Alias: $HPR = urn:oid:2.16.578.1.12.4.1.4.4
Alias: $ENH = urn:oid:2.16.578.1.12.4.1.4.101
Alias: $RESH = urn:oid:2.16.578.1.12.4.1.4.102
Alias: $ICD10NO = http://hl7.org/fhir/sid/icd-10-no
Alias: $Tjenesteomraade = urn:oid:2.16.578.1.12.4.1.1.7618
Alias: $BlankettNummer = http://helsenorge.no/fhir/blankett-nummer
Alias: $ConsentScope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $ActReason = http://terminology.hl7.org/CodeSystem/v3-ActReason
Alias: $ConsentAction = http://terminology.hl7.org/CodeSystem/consentaction
Alias: $UUID = urn:ietf:rfc:3986
// Norsk klinisk prosedyrekodeverk (NCMP, NCSP, NCRP)
Alias: $NKPK = urn:oid:2.16.578.1.12.4.1.1.7275
