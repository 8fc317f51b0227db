Profile: RegistryProcedure
Parent: Procedure
Id: registry-procedure
Title: "Registry procedure"
Description: "An interventional pain treatment (radiofrequency treatment or spinal cord stimulation) with its Norwegian clinical procedure code (NCMP): OPR's follow-ups are counted from it (P3)."
* extension contains Episode named episode 0..1 MS
* status MS
* category 1..1 MS
* category from TreatmentKindVS (required)
* code 1..1 MS
* code.coding 1..* MS
* code.coding ^slicing.discriminator.type = #value
* code.coding ^slicing.discriminator.path = "system"
* code.coding ^slicing.rules = #open
* code.coding contains ncmp 1..1 MS
* code.coding[ncmp].system = $NKPK (exactly)
* code.coding[ncmp].code 1..1
* subject only Reference(RegistryPatient)
* performed[x] 1..1 MS
* performer MS

Profile: ImplantedDevice
Parent: Device
Id: implanted-device
Title: "Implanted device"
Description: "A device implanted in a patient (OPR tracks spinal cord stimulators): kind, serial number or UDI, implant and explant dates."
* obeys ryg-device-identified and ryg-explant-after-implant
* extension contains ImplantDate named implantDate 1..1 MS and ExplantDate named explantDate 0..1 MS
* type 1..1 MS
* type from ImplantKindVS (required)
* serialNumber MS
* udiCarrier MS
* patient 1..1 MS
* patient only Reference(RegistryPatient)
