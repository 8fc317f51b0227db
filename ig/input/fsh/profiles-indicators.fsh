Invariant: ryg-proportion-populations
Description: "A proportion indicator defines its numerator and its denominator."
Expression: "group.all(population.code.coding.where(code = 'numerator').exists() and population.code.coding.where(code = 'denominator').exists())"
Severity: #error

Invariant: ryg-levels-in-range
Description: "Target and minimum levels are shares between 0 and 1, the minimum not above the target."
Expression: "extension('https://ryggrad.no/fhir/StructureDefinition/target-level').value.all($this >= 0 and $this <= 1) and extension('https://ryggrad.no/fhir/StructureDefinition/minimum-level').value.all($this >= 0 and $this <= 1)"
Severity: #error

Profile: RegistryMeasure
Parent: Measure
Id: registry-measure
Title: "Registry quality indicator"
Description: "A registry's quality indicator: a proportion of patients, with the direction of improvement, the registry's target and minimum levels, and its numerator and denominator."
* obeys ryg-proportion-populations and ryg-levels-in-range
* extension contains Registry named registry 1..1 MS and TargetLevel named target 0..1 MS and MinimumLevel named minimum 0..1 MS and AttributionOffset named attributionOffset 0..1 MS and EnteredDenominator named enteredDenominator 0..1 MS
* url 1..1 MS
* version 1..1 MS
* name 1..1 MS
* title 1..1 MS
* scoring 1..1 MS
* scoring = http://terminology.hl7.org/CodeSystem/measure-scoring#proportion
* improvementNotation 1..1 MS
* group 1..* MS
* group.population 2..* MS

Profile: RegistryMeasureReport
Parent: MeasureReport
Id: registry-measure-report
Title: "Registry indicator result"
Description: "An indicator's result for one unit (reporter: the unit's Organization) or, without a reporter, for the whole country, over a period: the counts, the proportion with its Wilson interval, and the flags for small numbers and low coverage."
* extension contains LowCoverage named lowCoverage 0..1 MS
* measure MS
* period MS
* reporter MS
* reporter only Reference(RegistryOrganization)
* group 1..* MS
* group.extension contains ScoreInterval named interval 0..1 MS and Suppressed named suppressed 0..1 MS
* group.population MS
* group.population.count 1..1 MS
* group.measureScore MS
