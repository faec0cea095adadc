/* xml.c - reading AWS's XML answers (xml.h). */
#include "aws/xml.h"

#include <limits.h>
#include <string.h>

xmlDoc *dm_xml_parse(const char *body, size_t len)
{
    if (!body || !len || len > INT_MAX)
        return NULL;
    return xmlReadMemory(body, (int)len, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOBLANKS |
                             XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

xmlNode *dm_xml_child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}
