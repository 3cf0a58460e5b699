-- "Aggiungi un'esecuzione": after the last run, another pass (a week
-- later, say) copies what arrived since; runs are numbered on.
ALTER TABLE runs DROP CONSTRAINT runs_run_no_check;
ALTER TABLE runs ADD CONSTRAINT runs_run_no_check CHECK (run_no BETWEEN 1 AND 20);
