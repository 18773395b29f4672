-- A report job run again (dcs export rerun, the Export page's Re-run button, issue 21 §3) is a new
-- job with the same request, linked to the one it repeats; the original and its archive stay as
-- they were, so the two archives can be compared. A deleted original leaves the re-run standing.
ALTER TABLE report_jobs ADD COLUMN rerun_of bigint REFERENCES report_jobs (id) ON DELETE SET NULL;
