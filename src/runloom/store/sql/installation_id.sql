SELECT id FROM public.runloom_installation
