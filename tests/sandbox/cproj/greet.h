/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * greet.h: second translation unit of the sandbox test project.
 */
#ifndef CPROJ_GREET_H
#define CPROJ_GREET_H

const char	*greet_text(void);

#endif
