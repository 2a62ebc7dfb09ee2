build/obj/agent/caps_report.o: agent/caps_report.c agent/caps.h
agent/caps.h:
