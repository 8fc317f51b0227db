-- One row of facts per NNRR episode, from the registry's SQL-on-FHIR views (mappings/views/, materialized as
-- view_<name> tables). The NNRR Measures' population criteria are conditions over these columns.
-- Only finalised forms count; of several forms of a kind, the newest. Dates are ISO strings; days_between(a, b)
-- is the server's function for the days from date a to date b.
WITH clinician AS (
  SELECT episode, visit_date, professions, yellow_flags, coping_talk, specialist_treatment, discipline,
         ROW_NUMBER() OVER (PARTITION BY episode ORDER BY authored DESC, response DESC) AS newest
  FROM view_nnrr_clinician_form
  WHERE status = 'completed' AND episode IS NOT NULL
),
patient_form AS (
  SELECT response, episode, authored, pain_duration, working, sick_leave, aap, sick_leave_percent,
         CASE
           WHEN form LIKE 'https://ryggrad.no/fhir/Questionnaire/nnrr-pre-consultation%' THEN 'pre'
           WHEN form LIKE 'https://ryggrad.no/fhir/Questionnaire/nnrr-follow-up-6m%' THEN '6m'
           WHEN form LIKE 'https://ryggrad.no/fhir/Questionnaire/nnrr-follow-up-12m%' THEN '12m'
         END AS timepoint
  FROM view_nnrr_patient_form
  WHERE status = 'completed' AND episode IS NOT NULL
),
newest_form AS (
  SELECT patient_form.*,
         ROW_NUMBER() OVER (PARTITION BY episode, timepoint ORDER BY authored DESC, response DESC) AS newest
  FROM patient_form
  WHERE timepoint IS NOT NULL
),
score AS (
  SELECT response,
         MAX(CASE WHEN score = 'odi-percent' THEN value END) AS odi,
         MAX(CASE WHEN score = 'ndi-percent' THEN value END) AS ndi,
         MAX(CASE WHEN score = 'pain-nrs-rest' THEN value END) AS pain_rest,
         MAX(CASE WHEN score = 'pain-nrs-activity' THEN value END) AS pain_activity,
         MAX(CASE WHEN score = 'hscl10-mean' THEN value END) AS hscl10,
         MAX(CASE WHEN score = 'gpe' THEN value END) AS gpe,
         MAX(CASE WHEN score = 'satisfaction' THEN value END) AS satisfaction
  FROM view_registry_score
  GROUP BY response
),
form AS (
  SELECT newest_form.episode, newest_form.timepoint, newest_form.pain_duration, newest_form.sick_leave_percent,
         CASE WHEN newest_form.working THEN 1 ELSE 0 END AS working,
         CASE WHEN newest_form.sick_leave THEN 1 ELSE 0 END AS sick_leave,
         CASE WHEN newest_form.aap THEN 1 ELSE 0 END AS aap,
         score.odi, score.ndi, score.pain_rest, score.pain_activity, score.hscl10, score.gpe, score.satisfaction
  FROM newest_form
  LEFT JOIN score ON score.response = newest_form.response
  WHERE newest_form.newest = 1
),
exclusion AS (
  SELECT episode,
         MAX(CASE WHEN excluded IS NOT NULL AND form LIKE '%/nnrr-follow-up-6m%' THEN 1 ELSE 0 END) AS excluded_6m,
         MAX(CASE WHEN excluded IS NOT NULL AND form LIKE '%/nnrr-follow-up-12m%' THEN 1 ELSE 0 END) AS excluded_12m
  FROM view_registry_form_task
  WHERE episode IS NOT NULL
  GROUP BY episode
)
SELECT episode.episode,
       episode.unit,
       COALESCE(clinician.visit_date, episode.visit_date) AS visit_date,
       CASE WHEN clinician.episode IS NULL THEN 0 ELSE 1 END AS clinician_final,
       CASE WHEN clinician.specialist_treatment = 'yes' AND clinician.discipline = 'inter' THEN 1 ELSE 0 END
         AS interdisciplinary_treatment,
       clinician.professions,
       CAST(clinician.yellow_flags AS INTEGER) AS yellow_flags,
       CASE WHEN clinician.coping_talk = 'yes' THEN 1 ELSE 0 END AS coping_talk,
       days_between(episode.referral_date, COALESCE(clinician.visit_date, episode.visit_date)) AS waiting_days,
       pre.odi AS odi_pre, six.odi AS odi_6m,
       pre.ndi AS ndi_pre, six.ndi AS ndi_6m,
       pre.pain_rest AS pain_rest_pre, six.pain_rest AS pain_rest_6m,
       pre.pain_activity AS pain_activity_pre, six.pain_activity AS pain_activity_6m,
       pre.hscl10 AS hscl10_pre,
       pre.pain_duration AS pain_duration_pre,
       COALESCE(pre.working, 0) AS working_pre,
       COALESCE(pre.sick_leave, 0) AS sick_leave_pre,
       pre.sick_leave_percent AS sick_leave_percent_pre,
       COALESCE(six.working, 0) AS working_6m,
       COALESCE(six.sick_leave, 0) AS sick_leave_6m,
       COALESCE(six.aap, 0) AS aap_6m,
       six.sick_leave_percent AS sick_leave_percent_6m,
       six.gpe AS gpe_6m,
       six.satisfaction AS satisfaction_6m,
       CASE WHEN six.episode IS NULL THEN 0 ELSE 1 END AS form_6m,
       CASE WHEN twelve.episode IS NULL THEN 0 ELSE 1 END AS form_12m,
       COALESCE(exclusion.excluded_6m, 0) AS excluded_6m,
       COALESCE(exclusion.excluded_12m, 0) AS excluded_12m
FROM view_registry_episode AS episode
LEFT JOIN clinician ON clinician.episode = episode.episode AND clinician.newest = 1
LEFT JOIN form AS pre ON pre.episode = episode.episode AND pre.timepoint = 'pre'
LEFT JOIN form AS six ON six.episode = episode.episode AND six.timepoint = '6m'
LEFT JOIN form AS twelve ON twelve.episode = episode.episode AND twelve.timepoint = '12m'
LEFT JOIN exclusion ON exclusion.episode = episode.episode
WHERE episode.registry = 'nnrr' AND episode.status <> 'entered-in-error'
