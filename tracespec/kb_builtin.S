/* kb_builtin.S - tracespec/symptoms.kb compiled into the binary, NUL-terminated,
 * so `diagagent suggest` works from any directory; $DIAGAGENT_KB overrides it. */
	.section .rodata
	.global diag_kb_builtin_start
	.global diag_kb_builtin_end
	.balign 16
diag_kb_builtin_start:
	.incbin "tracespec/symptoms.kb"
diag_kb_builtin_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
