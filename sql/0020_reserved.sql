-- 0020_reserved.sql: holds number 20 for the licence and audit branch (h-pro), so that this
-- branch's 0021 has no gap; the merge replaces it with that branch's 0020.
SELECT 1;
