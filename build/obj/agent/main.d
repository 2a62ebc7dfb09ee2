build/obj/agent/main.o: agent/main.c agent/cli.h
agent/cli.h:
