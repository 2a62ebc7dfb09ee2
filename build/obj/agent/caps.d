build/obj/agent/caps.o: agent/caps.c agent/caps.h agent/runcmd.h \
 agent/sysfs.h
agent/caps.h:
agent/runcmd.h:
agent/sysfs.h:
