CREATE TABLE public.jobs (id bigint PRIMARY KEY);
