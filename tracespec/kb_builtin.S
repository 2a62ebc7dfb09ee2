/* kb_builtin.S - tracespec/symptoms.kb compiled into the binary, NUL-terminated,
 * so `diagagent suggest` works from any directory; $DIAGAGENT_KB overrides it.
 * The assembler computes its length (C may not subtract the addresses of two objects). */
	.section .rodata
	.global diag_kb_builtin_start
	.global diag_kb_builtin_size
	.balign 16
diag_kb_builtin_start:
	.incbin "tracespec/symptoms.kb"
diag_kb_builtin_end:
	.byte 0
	.balign 8
diag_kb_builtin_size:
	.quad diag_kb_builtin_end - diag_kb_builtin_start
	.section .note.GNU-stack,"",@progbits
