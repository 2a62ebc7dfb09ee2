build/obj/agent/caps_attach.o: agent/caps_attach.c agent/caps.h \
 agent/sysfs.h
agent/caps.h:
agent/sysfs.h:
