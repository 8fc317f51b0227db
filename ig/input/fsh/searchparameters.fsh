Instance: task-due
InstanceOf: SearchParameter
Usage: #definition
Title: "Task by due date"
* url = "https://ryggrad.no/fhir/SearchParameter/task-due"
* name = "due"
* status = #active
* description = "When a task is due: the end of its restriction period (the deadline shown to the patient)."
* code = #due
* base = #Task
* type = #date
* expression = "Task.restriction.period.end"
* comparator[+] = #eq
* comparator[+] = #lt
* comparator[+] = #le
* comparator[+] = #gt
* comparator[+] = #ge

Instance: episode-of-care-registry
InstanceOf: SearchParameter
Usage: #definition
Title: "EpisodeOfCare by registry"
* url = "https://ryggrad.no/fhir/SearchParameter/episode-of-care-registry"
* name = "registry"
* status = #active
* description = "The registry an episode belongs to."
* code = #registry
* base = #EpisodeOfCare
* type = #token
* expression = "EpisodeOfCare.extension('https://ryggrad.no/fhir/StructureDefinition/registry').value"

Instance: episode-of-care-visit-date
InstanceOf: SearchParameter
Usage: #definition
Title: "EpisodeOfCare by visit date"
* url = "https://ryggrad.no/fhir/SearchParameter/episode-of-care-visit-date"
* name = "visit-date"
* status = #active
* description = "The date of the episode's first consultation."
* code = #visit-date
* base = #EpisodeOfCare
* type = #date
* expression = "EpisodeOfCare.extension('https://ryggrad.no/fhir/StructureDefinition/visit-date').value"

Instance: task-episode
InstanceOf: SearchParameter
Usage: #definition
Title: "Task or response by episode"
* url = "https://ryggrad.no/fhir/SearchParameter/episode"
* name = "episode"
* status = #active
* description = "The episode of care a task, a questionnaire response or a procedure belongs to."
* code = #episode
* base[+] = #Task
* base[+] = #QuestionnaireResponse
* base[+] = #Procedure
* type = #reference
* target = #EpisodeOfCare
* expression = "Task.extension('https://ryggrad.no/fhir/StructureDefinition/episode').value | QuestionnaireResponse.extension('https://ryggrad.no/fhir/StructureDefinition/episode').value | Procedure.extension('https://ryggrad.no/fhir/StructureDefinition/episode').value"

Instance: appointment-registry-potential
InstanceOf: SearchParameter
Usage: #definition
Title: "Appointment by registry potential"
* url = "https://ryggrad.no/fhir/SearchParameter/appointment-registry-potential"
* name = "registry-potential"
* status = #active
* description = "The registries an appointment's patient may belong in, as the EHR flagged it."
* code = #registry-potential
* base = #Appointment
* type = #token
* expression = "Appointment.extension('https://ryggrad.no/fhir/StructureDefinition/registry-potential').value"

Instance: task-available
InstanceOf: SearchParameter
Usage: #definition
Title: "Task by when it becomes available"
* url = "https://ryggrad.no/fhir/SearchParameter/task-available"
* name = "available"
* status = #active
* description = "When a task is to be sent to the patient (the start of its restriction period): the scheduler activates tasks whose time has come."
* code = #available
* base = #Task
* type = #date
* expression = "Task.restriction.period.start"
