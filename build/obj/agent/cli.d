build/obj/agent/cli.o: agent/cli.c agent/cli.h
agent/cli.h:
