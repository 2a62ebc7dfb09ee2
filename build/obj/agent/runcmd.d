build/obj/agent/runcmd.o: agent/runcmd.c agent/runcmd.h
agent/runcmd.h:
