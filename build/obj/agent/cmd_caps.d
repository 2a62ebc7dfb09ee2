build/obj/agent/cmd_caps.o: agent/cmd_caps.c agent/caps.h agent/cli.h
agent/caps.h:
agent/cli.h:
