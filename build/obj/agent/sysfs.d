build/obj/agent/sysfs.o: agent/sysfs.c agent/sysfs.h
agent/sysfs.h:
