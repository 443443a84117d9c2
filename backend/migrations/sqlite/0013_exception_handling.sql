-- Who closed an exception by hand (resolved or ignored through the API), and the reason given
-- for ignoring it. Null when wns closed it by itself (see `resolution`).
alter table exceptions add column resolved_by text;
alter table exceptions add column note text;
