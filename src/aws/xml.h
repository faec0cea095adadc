/*
 * xml.h - the XML answers of AWS services (S3's listings and errors,
 * STS's credentials), read with libxml2: never from the network, never
 * printed on error. One place for the parser's flags and the walk.
 */
#ifndef DM_AWS_XML_H
#define DM_AWS_XML_H

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>

/* The document in body (xmlFreeDoc it); NULL when empty or not XML. */
xmlDoc *dm_xml_parse(const char *body, size_t len);

/* n's first child element called name; NULL when none (or n is NULL). */
xmlNode *dm_xml_child(xmlNode *n, const char *name);

#endif
